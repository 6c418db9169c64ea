package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test support: starts the command line in a separate JVM, as the launcher would. */
public final class ChildCli {

    /**
     * The system property of the application's test-only fault that halts the JVM at the N-th
     * checkpoint (see {@code cli.run.CheckpointHalt}).
     */
    public static final String HALT_AFTER_CHECKPOINT = "dropblock4j.test.halt-after-checkpoint";

    /** The exit status of a JVM the fault halted, that of a process killed with SIGKILL. */
    public static final int HALTED = 137;

    private ChildCli() {}

    /**
     * Runs {@code dropblock4j} in a child JVM that halts at a checkpoint, as {@code kill -9} at
     * that moment would, and waits for it: a deterministic kill, with no polling and no race.
     *
     * @param log where the child's output goes
     * @param halt {@code N} to halt right after the N-th checkpoint, {@code N:between-renames} to
     *     halt inside its swap, after the previous checkpoint was renamed to {@code checkpoint.old}
     * @param args the command-line arguments
     */
    public static void runUntilHalted(Path log, String halt, String... args)
            throws IOException, InterruptedException {
        runUntilHalted(log, List.of(), halt, args);
    }

    /**
     * Runs {@code dropblock4j} with extra JVM options in a child JVM that halts at a checkpoint, as
     * {@link #runUntilHalted(Path, String, String...)}.
     *
     * @param log where the child's output goes
     * @param jvmOptions extra JVM options, e.g. those Spark needs on Java 17
     * @param halt where to halt, as {@link #runUntilHalted(Path, String, String...)} takes it
     * @param args the command-line arguments
     */
    public static void runUntilHalted(
            Path log, List<String> jvmOptions, String halt, String... args)
            throws IOException, InterruptedException {
        List<String> options = new ArrayList<>(jvmOptions);
        options.add("-D" + HALT_AFTER_CHECKPOINT + "=" + halt);
        Process process = start(log, options, args);
        try {
            assertTrue(process.waitFor(10, TimeUnit.MINUTES), "the child did not halt");
        } finally {
            process.destroyForcibly();
        }
        assertEquals(HALTED, process.exitValue(), Files.readString(log));
    }

    /**
     * Waits until the child's output shows {@code text} (or it ended, or 3 minutes passed), then
     * sends it SIGTERM ({@link Process#destroy()}) and waits for it to exit.
     *
     * @param process the child
     * @param log where its output goes
     * @param text what its output shows once it is where the signal should land
     */
    public static void terminateAfter(Process process, Path log, String text)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.readString(log).contains(text)
                && process.isAlive()
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        process.destroy();
        assertTrue(process.waitFor(3, TimeUnit.MINUTES), "the stopped child did not exit");
    }

    /**
     * Starts {@code dropblock4j} with the given JVM options and arguments.
     *
     * @param log where the child's output goes
     * @param jvmOptions extra JVM options, e.g. a fixed heap
     * @param args the command-line arguments
     * @return the running process
     */
    public static Process start(Path log, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(
                List.of(
                        "-Dai.djl.offline=true",
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                        "-Djava.awt.headless=true",
                        "-cp",
                        System.getProperty("java.class.path"),
                        DropBlockCli.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return builder.start();
    }
}
