package io.github.dropblock4j.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.spark.SparkJvmOptions;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark-train} on a standalone Spark cluster on 127.0.0.1, as a user's cluster runs it on
 * one machine: Spark's own master and two workers of one core each in JVMs of their own, the
 * executors started by the workers, and the packaged application submitted through Spark's {@code
 * SparkSubmit} as the README's cluster recipe does. Runs after {@code package} (failsafe).
 */
class LoopbackClusterIT {

    // 320 embedded images in minibatches of 16 on 2 workers fitting 5 between averagings: 2
    // rounds of 5 steps an epoch.
    private static final int EPOCHS = 2;
    private static final int STEPS_PER_EPOCH = 10;
    // Drop probabilities are 1 - keep_prob in double from a float --drop-prob.
    private static final double EPS = 1e-6;

    private final List<Process> cluster = new ArrayList<>();
    // The spark-submit drivers: one of a test that failed before it ended is still running.
    private final List<Process> jobs = new ArrayList<>();

    @AfterEach
    void stopCluster() throws InterruptedException {
        // The driver first (it would otherwise wait for executors for ever), then SIGTERM to the
        // cluster: a worker's shutdown hook kills the executors it started.
        for (Process job : jobs) {
            job.destroyForcibly();
            job.waitFor(30, TimeUnit.SECONDS);
        }
        for (Process p : cluster) {
            p.destroy();
        }
        for (Process p : cluster) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void twoExecutorsTrainWithOneDnnAndSizedThreadsAndTheRampEndsOnTheLastStep(@TempDir Path tmp)
            throws IOException, InterruptedException {
        String master = startCluster(tmp);
        Path out = tmp.resolve("run");

        Process job = submitSparkTrain(tmp.resolve("driver.log"), master, 320, out);

        boolean ended = job.waitFor(8, TimeUnit.MINUTES);
        String log = Files.readString(tmp.resolve("driver.log"), StandardCharsets.UTF_8);
        assertTrue(ended, "the job did not end: " + log);
        assertEquals(0, job.exitValue(), log);
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(EPOCHS * STEPS_PER_EPOCH, summary.steps(), log);
        EpochMetrics last = summary.epochs().get(EPOCHS - 1);
        assertEquals(0.1, last.dropProb(), EPS);
        JsonObject spark =
                JsonParser.parseString(
                                Files.readString(out.resolve("spark.json"), StandardCharsets.UTF_8))
                        .getAsJsonObject();
        assertEquals(master, spark.get("master").getAsString());
        Set<String> executors = new HashSet<>();
        for (JsonElement e : spark.getAsJsonArray("executors")) {
            JsonObject facts = e.getAsJsonObject();
            executors.add(facts.get("executorId").getAsString());
            assertTrue(
                    facts.get("oneDnn").getAsString().startsWith("oneDNN: on"), facts.toString());
            // One core per worker, one task at a time: one OpenMP thread, not the machine's.
            assertEquals(1, facts.get("nativeThreads").getAsInt(), facts.toString());
        }
        assertEquals(2, executors.size(), spark.toString());
        assertFalse(executors.contains("driver"), spark.toString());
    }

    @Test
    void aWorkerKilledMidEpochIsNamedAndTheOtherExecutorFinishesTheRun(@TempDir Path tmp)
            throws IOException, InterruptedException {
        String master = startCluster(tmp);
        Path out = tmp.resolve("run");
        Path driverLog = tmp.resolve("driver.log");
        // 480 images: 3 rounds of 5 steps an epoch, so the kill lands within the second epoch.
        Process job = submitSparkTrain(driverLog, master, 480, out);
        awaitLines(driverLog, "epoch 1/" + EPOCHS + "  step", 1, job, TimeUnit.MINUTES.toNanos(6));
        // Worker 2's executor logs each task it starts; the first it starts after the first
        // epoch's line is a round of the second epoch. Then take the worker, executor and all
        // (the executor exits when it loses its worker): mostly while that task runs (Spark logs
        // it lost, ExecutorLostFailure, and redoes it on the other executor), else just after it;
        // either way the rest of the run is on the other executor alone.
        Path workDir = tmp.resolve("worker2");
        String lost = executorOf(workDir);
        Path executorLog = executorLog(workDir, lost);
        String started = "Running task";
        int before = countLines(executorLog, started);
        awaitLines(executorLog, started, before + 1, job, TimeUnit.MINUTES.toNanos(2));
        Process worker = cluster.get(2);
        worker.destroyForcibly();
        assertTrue(worker.waitFor(30, TimeUnit.SECONDS));

        boolean ended = job.waitFor(8, TimeUnit.MINUTES);
        String log = Files.readString(driverLog, StandardCharsets.UTF_8);
        assertTrue(ended, "the job did not end: " + log);
        assertEquals(0, job.exitValue(), log);
        assertTrue(log.contains("spark-train: lost executor " + lost + " ("), log);
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        // Every step of both epochs, whatever the lost executor had not finished redone.
        assertEquals(EPOCHS * 15, summary.steps(), log);
        assertEquals(0.1, summary.epochs().get(EPOCHS - 1).dropProb(), EPS);
        assertTrue(Double.isFinite(summary.epochs().get(EPOCHS - 1).trainLoss()), log);
    }

    // The id of the executor a standalone worker started: its work directory holds app/execId.
    private static String executorOf(Path workDir) throws IOException {
        try (Stream<Path> apps = Files.list(workDir)) {
            Path app = apps.filter(Files::isDirectory).findFirst().orElseThrow();
            try (Stream<Path> executors = Files.list(app)) {
                return executors
                        .filter(Files::isDirectory)
                        .findFirst()
                        .orElseThrow()
                        .getFileName()
                        .toString();
            }
        }
    }

    // A standalone executor's log: its stderr, in the worker's work directory under app/execId.
    private static Path executorLog(Path workDir, String executorId) throws IOException {
        try (Stream<Path> apps = Files.list(workDir)) {
            Path app = apps.filter(Files::isDirectory).findFirst().orElseThrow();
            return app.resolve(executorId).resolve("stderr");
        }
    }

    private static int countLines(Path log, String text) throws IOException {
        String content = Files.exists(log) ? Files.readString(log) : "";
        return content.split(Pattern.quote(text), -1).length - 1;
    }

    /** Starts a master and two one-core workers; returns the master's URL. */
    private String startCluster(Path tmp) throws IOException, InterruptedException {
        int port = freePort();
        String url = "spark://127.0.0.1:" + port;
        // A Spark installation: SPARK_HOME/jars holds Spark and the Scala, SLF4J and Apache
        // Commons, Kryo and stream jars it shares with the application; the workers start
        // executors on it.
        Path jars = tmp.resolve("spark-home").resolve("jars");
        Files.createDirectories(jars);
        try (Stream<Path> spark = Files.list(sparkLib());
                Stream<Path> shared = Files.list(lib())) {
            for (Path jar :
                    Stream.concat(
                                    spark,
                                    shared.filter(
                                            p ->
                                                    p.getFileName()
                                                            .toString()
                                                            .matches(
                                                                    "(scala-|slf4j-|commons-|stream-|kryo-|minlog-|objenesis-).*")))
                            .toList()) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
            }
        }
        Path home = jars.getParent();
        Path masterLog = tmp.resolve("master.log");
        cluster.add(
                daemon(
                        masterLog,
                        home,
                        List.of(
                                "org.apache.spark.deploy.master.Master",
                                "--host",
                                "127.0.0.1",
                                "--port",
                                String.valueOf(port),
                                "--webui-port",
                                String.valueOf(freePort()))));
        for (int i = 1; i <= 2; i++) {
            Path work = tmp.resolve("worker" + i);
            Files.createDirectories(work);
            cluster.add(
                    daemon(
                            tmp.resolve("worker" + i + ".log"),
                            home,
                            List.of(
                                    "org.apache.spark.deploy.worker.Worker",
                                    "--host",
                                    "127.0.0.1",
                                    "--cores",
                                    "1",
                                    "--memory",
                                    "2g",
                                    "--webui-port",
                                    String.valueOf(freePort()),
                                    "--work-dir",
                                    work.toString(),
                                    url)));
        }
        awaitLines(masterLog, "Registering worker", 2, null, TimeUnit.MINUTES.toNanos(2));
        return url;
    }

    // Waits for count lines with text in a log, which is all the cluster and the job say of their
    // progress; fails if a cluster JVM or the job ends first.
    private void awaitLines(Path log, String text, int count, Process job, long timeoutNanos)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            if (countLines(log, text) >= count) {
                return;
            }
            String content = Files.exists(log) ? Files.readString(log) : "";
            for (Process p : cluster) {
                assertTrue(p.isAlive(), "a cluster JVM ended: " + content);
            }
            assertTrue(job == null || job.isAlive(), "the job ended: " + content);
            assertTrue(System.nanoTime() < deadline, "no " + count + " '" + text + "': " + content);
            Thread.sleep(200);
        }
    }

    private Process daemon(Path log, Path home, List<String> mainAndArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(SparkJvmOptions.addOpens());
        command.addAll(List.of("-Xmx512m", "-cp", home.resolve("jars").resolve("*").toString()));
        command.addAll(mainAndArgs);
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.12");
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        return builder.start();
    }

    // spark-train on embedded images in minibatches of 16 on 2 workers fitting 5 between
    // averagings: a round is 160 images.
    private Process submitSparkTrain(Path log, String master, int images, Path out)
            throws IOException {
        return submit(
                log,
                master,
                "spark-train",
                "--train-limit",
                String.valueOf(images),
                "--test-limit",
                "100",
                "--batch-size",
                "16",
                "--epochs",
                String.valueOf(EPOCHS),
                "--workers",
                "2",
                "--averaging-frequency",
                "5",
                "--out",
                out.toString());
    }

    /** Submits the packaged application as the README's cluster recipe does. */
    private Process submit(Path log, String master, String... args) throws IOException {
        Path jar = Path.of(System.getProperty("dropblock4j.cli.jar"));
        Path lib = lib();
        String jars;
        try (Stream<Path> files = Files.list(lib)) {
            jars = files.map(Path::toString).sorted().collect(Collectors.joining(","));
        }
        String executorOptions =
                String.join(" ", SparkJvmOptions.addOpens())
                        + " -D"
                        + OneDnn.HELPERS_DISABLE
                        + "=false -D"
                        + OneDnn.PLATFORM_EXTENSION
                        + "="
                        + OneDnn.ONEDNN_EXTENSION;
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(SparkJvmOptions.addOpens());
        command.add("-Djava.awt.headless=true");
        command.addAll(
                List.of(
                        "-cp",
                        sparkLib().resolve("*") + File.pathSeparator + lib.resolve("*"),
                        "org.apache.spark.deploy.SparkSubmit",
                        "--master",
                        master,
                        "--class",
                        "io.github.dropblock4j.cli.DropBlockCli",
                        "--jars",
                        jars,
                        "--executor-memory",
                        "1500m",
                        "--conf",
                        "spark.executor.extraJavaOptions=" + executorOptions,
                        "--conf",
                        "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE",
                        // Start once both executors are there, so that both train every round.
                        "--conf",
                        "spark.cores.max=2",
                        "--conf",
                        "spark.scheduler.minRegisteredResourcesRatio=1.0",
                        "--conf",
                        "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
                        jar.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process job = builder.start();
        jobs.add(job);
        return job;
    }

    private static Path sparkLib() {
        return Path.of(System.getProperty("dropblock4j.cli.spark.lib"));
    }

    private static Path lib() {
        return Path.of(System.getProperty("dropblock4j.cli.lib"));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
