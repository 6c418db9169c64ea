package io.github.dropblock4j.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.data.IdxReader;
import io.github.dropblock4j.cli.data.SyntheticData;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.StopRequest;
import io.github.dropblock4j.spark.SparkJvmOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.spark.SparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SparkTrainCommandTest {

    // 160 training images of 8x8 in minibatches of 8: 20 minibatches, 2 rounds of 2 workers
    // fitting 5 each, so 10 steps an epoch.
    private static final int TRAIN = 160;
    private static final int STEPS_PER_EPOCH = 10;
    private static final String[] SMALL = {
        "--batch-size", "8", "--block-size", "3", "--master", "local[2]"
    };
    private static final String AVERAGING = "5";
    // Drop probabilities are 1 - keep_prob in double from a float --drop-prob: exact to float's
    // precision.
    private static final double EPS = 1e-6;

    @TempDir static Path data;

    @BeforeAll
    static void writeSmallImages() throws IOException {
        Files.write(data.resolve(IdxReader.TRAIN_IMAGES), SyntheticData.idxImages(TRAIN, 8, 8, 1));
        Files.write(data.resolve(IdxReader.TRAIN_LABELS), SyntheticData.idxLabels(TRAIN, 10));
        Files.write(data.resolve(IdxReader.TEST_IMAGES), SyntheticData.idxImages(40, 8, 8, 2));
        Files.write(data.resolve(IdxReader.TEST_LABELS), SyntheticData.idxLabels(40, 10));
    }

    private static String[] args(Path out, String... more) {
        return Stream.of(
                        new String[] {
                            "spark-train", "--data", data.toString(), "--out", out.toString()
                        },
                        SMALL,
                        more)
                .flatMap(Stream::of)
                .toArray(String[]::new);
    }

    @Test
    void writesARunDirectoryWithTheTrueStepsAndTheTargetOnTheLastStep(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("run");

        CliRunner.Result r =
                CliRunner.run(args(out, "--epochs", "2", "--averaging-frequency", AVERAGING));

        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("epoch 2/2"), r.out());
        assertTrue(r.out().contains("2 workers side by side x "), r.out());
        assertTrue(r.out().contains("oneDNN: on (42 of 42 "), r.out());
        for (String file :
                List.of("config.json", "spark.json", "metrics.csv", "summary.json", "curves.png")) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
        assertFalse(Files.exists(tmp.resolve("run.partial")));
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(List.of(EpochMetrics.CSV_HEADER), csv.subList(0, 1));
        assertEquals(3, csv.size());
        SparkSettings settings =
                new Gson()
                        .fromJson(
                                Files.readString(out.resolve("spark.json"), StandardCharsets.UTF_8),
                                SparkSettings.class);
        assertEquals(new SparkSettings("local[2]", 2, 5), settings);
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(2 * STEPS_PER_EPOCH, summary.steps());
        List<EpochMetrics> epochs = summary.epochs();
        assertEquals(STEPS_PER_EPOCH, epochs.get(0).step());
        // keep_prob ramps from 1 at step 0 to 0.9 at the last step, 19.
        assertEquals(0.1 * (STEPS_PER_EPOCH - 1) / 19, epochs.get(0).dropProb(), EPS);
        assertEquals(0.1, epochs.get(1).dropProb(), EPS);
        // The learning rate on a cosine from 0.1 at step 0 to 0 at step 20.
        assertEquals(0.1 * (1 + Math.cos(Math.PI * 9 / 20)) / 2, epochs.get(0).learningRate(), EPS);
        assertEquals(
                0.1 * (1 + Math.cos(Math.PI * 19 / 20)) / 2, epochs.get(1).learningRate(), EPS);
        for (EpochMetrics e : epochs) {
            assertTrue(e.testAccuracy() >= 0 && e.testAccuracy() <= 1, e.toString());
            // The workers do not report the accuracy of their steps: the column says so, and the
            // evaluation-mode accuracy over the training images has its own.
            assertTrue(Double.isNaN(e.trainAccuracy()), e.toString());
            assertTrue(e.trainEvalAccuracy() >= 0 && e.trainEvalAccuracy() <= 1, e.toString());
            assertTrue(
                    Double.isFinite(e.trainLoss()) && Double.isFinite(e.testLoss()), e.toString());
        }
        // The workers report what their DropBlocks zeroed: the drop probability ramps up, from a
        // mean of 0.1 * 4.5 / 19 = 0.024 in the first epoch to 0.1 * 14.5 / 19 = 0.076 in the
        // second. Each channel's zeroed fraction is a variable in [0, 1] (variance at most 1/4),
        // independent across channels and images; an epoch has 160 images of 864 such channels
        // (9 DropBlocks: 288 channels of 4x4 and 576 of 2x2 on these 8x8 images), so weighted by
        // their sizes the epoch mean's standard error is under 0.002: the bounds below are 12 or
        // more of those away.
        double first = epochs.get(0).realisedDropRate();
        double second = epochs.get(1).realisedDropRate();
        assertTrue(first > 0 && second > first && second < 0.1, first + ", " + second);
        // The saved model carries the true counts, so a schedule would continue where it ended.
        ComputationGraph model =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve("model.zip").toFile(), true);
        assertEquals(2 * STEPS_PER_EPOCH, model.getIterationCount());
        assertEquals(2, model.getEpochCount());
    }

    @Test
    void badOptionsStopBeforeSparkStartsAndLeaveNothing(@TempDir Path tmp) throws IOException {
        CliRunner.Result workers = CliRunner.run(args(tmp.resolve("a"), "--workers", "0"));
        CliRunner.Result averaging =
                CliRunner.run(args(tmp.resolve("b"), "--averaging-frequency", "0"));
        CliRunner.Result batch =
                CliRunner.run(
                        "spark-train",
                        "--data",
                        data.toString(),
                        "--out",
                        tmp.resolve("c").toString(),
                        "--batch-size",
                        "1000");

        assertEquals(2, workers.exitCode(), workers.err());
        assertTrue(workers.err().contains("--workers must be in [1, 4096], got 0"), workers.err());
        assertEquals(2, averaging.exitCode(), averaging.err());
        assertTrue(
                averaging.err().contains("--averaging-frequency must be in [1, 10000], got 0"),
                averaging.err());
        assertEquals(2, batch.exitCode(), batch.err());
        assertTrue(
                batch.err()
                        .contains("--batch-size must be at most the 160 training images, got 1000"),
                batch.err());
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void theSpeedCountsTheImagesTrainedWhenAnEpochIsLessThanOneRound(@TempDir Path tmp)
            throws IOException {
        // 40 images (4 of each class) in minibatches of 8: 5 minibatches, fewer than a round of 2
        // workers x 5, so one round of 3 steps on one worker and 2 on the other trains the 40
        // images, not 3 x 2 x 8.
        Path out = tmp.resolve("run");
        CliRunner.Result r =
                CliRunner.run(
                        args(
                                out,
                                "--epochs",
                                "1",
                                "--train-limit",
                                "40",
                                "--averaging-frequency",
                                AVERAGING));
        assertEquals(0, r.exitCode(), r.err());
        EpochMetrics epoch = RunDirectory.readSummary(out).orElseThrow().epochs().get(0);
        assertEquals(3, epoch.step());
        assertEquals(40, epoch.samplesPerSecond() * epoch.seconds(), 40 * EPS);
    }

    @Test
    void aJobThatFailsLeavesNoRunDirectory(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path partial = tmp.resolve("run.partial");
        CompletableFuture<CliRunner.Result> run =
                CompletableFuture.supplyAsync(
                        () ->
                                CliRunner.run(
                                        args(
                                                out,
                                                "--epochs",
                                                "50",
                                                "--averaging-frequency",
                                                AVERAGING)));
        try {
            awaitFile(partial.resolve(SparkTrainCommand.SETTINGS), run);
        } finally {
            // Spark shut down under the job, as when a cluster goes away; also when the wait
            // failed, so that no job trains on in this JVM under the tests that follow.
            if (!run.isDone()) {
                SparkContext.getOrCreate().stop();
            }
        }
        CliRunner.Result r;
        try {
            r = run.get(2, TimeUnit.MINUTES);
        } catch (TimeoutException e) {
            // Seen once in CI (2026-12-07), not reproduced alone: say where the job waits.
            throw new AssertionError(
                    "the job did not end within 2 minutes of Spark's stop; threads:\n"
                            + threadDump(),
                    e);
        }

        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertFalse(Files.exists(out), "a failed run must not look finished");
        assertFalse(Files.exists(partial.resolve(RunDirectory.SUMMARY)));
    }

    @Test
    void sigtermStopsAfterTheRoundWithACheckpointAndExits130(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("child.log");
        List<String> jvm = new ArrayList<>(SparkJvmOptions.addOpens());
        jvm.add("-Xmx1g");
        Process process =
                ChildCli.start(
                        log, jvm, args(out, "--epochs", "4", "--averaging-frequency", AVERAGING));
        try {
            // The first epoch's line: its checkpoint is written and a round of the second runs.
            ChildCli.terminateAfter(process, log, "epoch 1/4");
        } finally {
            process.destroyForcibly();
        }
        String printed = Files.readString(log);
        assertEquals(StopRequest.EXIT_CODE, process.exitValue(), printed);
        assertTrue(
                printed.contains("continue with: ./dropblock4j spark-train --resume " + out),
                printed);
        assertFalse(Files.exists(out), "a stopped run must not look finished");
        RunDirectory.State state = RunDirectory.resume(out).loadState().orElseThrow();
        // Every round finished before the signal is in the checkpoint: an averaging round is a
        // batch of the epoch loop, 5 steps.
        int roundsInside = state.partial() == null ? 0 : state.partial().batches();
        assertEquals(
                state.epochsDone() * STEPS_PER_EPOCH + roundsInside * Integer.parseInt(AVERAGING),
                state.steps(),
                state.toString());
        assertTrue(state.epochsDone() >= 1, state.toString());

        CliRunner.Result r = CliRunner.run("spark-train", "--resume", out.toString());

        assertEquals(0, r.exitCode(), r.out() + r.err());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(4 * STEPS_PER_EPOCH, summary.steps());
        assertEquals(
                List.of(1, 2, 3, 4), summary.epochs().stream().map(EpochMetrics::epoch).toList());
        assertEquals(0.1, summary.epochs().get(3).dropProb(), EPS);
    }

    @Test
    void aJobKilledAfterAnEpochResumesWithoutRedoingItAndEndsTheRampOnTheLastStep(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("run");
        Path partial = tmp.resolve("run.partial");
        List<String> jvm = new ArrayList<>(SparkJvmOptions.addOpens());
        jvm.add("-Xmx1g");
        ChildCli.runUntilHalted(
                tmp.resolve("child.log"),
                jvm,
                "1",
                args(out, "--epochs", "3", "--averaging-frequency", AVERAGING));

        assertFalse(Files.exists(out), "a killed run must not look finished");
        assertFalse(Files.exists(partial.resolve(RunDirectory.SUMMARY)));
        RunDirectory.State killed = RunDirectory.resume(out).loadState().orElseThrow();
        assertEquals(1, killed.epochsDone());
        assertEquals(STEPS_PER_EPOCH, killed.steps());

        CliRunner.Result r = CliRunner.run("spark-train", "--resume", out.toString());

        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("resuming "), r.out());
        assertFalse(r.out().contains("epoch 1/3"), "epoch 1 was redone: " + r.out());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        List<EpochMetrics> epochs = summary.epochs();
        assertEquals(3, epochs.size());
        // The killed process's epoch, as its checkpoint recorded it.
        assertEquals(killed.epochs().get(0), epochs.get(0));
        assertEquals(List.of(10, 20, 30), epochs.stream().map(EpochMetrics::step).toList());
        // keep_prob ramps from 1 at step 0 to 0.9 at the last step, 29, across the resume.
        assertEquals(0.1 * 19 / 29, epochs.get(1).dropProb(), EPS);
        assertEquals(0.1, epochs.get(2).dropProb(), EPS);
        assertEquals(
                0.1 * (1 + Math.cos(Math.PI * 29 / 30)) / 2, epochs.get(2).learningRate(), EPS);
        ComputationGraph model =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve("model.zip").toFile(), true);
        assertEquals(3 * STEPS_PER_EPOCH, model.getIterationCount());
        assertEquals(3, model.getEpochCount());
        assertEquals(
                new SparkSettings("local[2]", 2, 5),
                new Gson()
                        .fromJson(
                                Files.readString(out.resolve("spark.json"), StandardCharsets.UTF_8),
                                SparkSettings.class));
    }

    // Waits until the run has written its settings, i.e. Spark runs and training is starting.
    private static String threadDump() {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces()
                .forEach(
                        (thread, stack) -> {
                            dump.append(thread.getName()).append(' ').append(thread.getState());
                            for (StackTraceElement frame : stack) {
                                dump.append("\n    at ").append(frame);
                            }
                            dump.append('\n');
                        });
        return dump.toString();
    }

    private static void awaitFile(Path file, CompletableFuture<?> run) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!Files.exists(file)) {
            assertFalse(run.isDone(), "the run ended before " + file + " appeared");
            assertTrue(System.nanoTime() < deadline, file + " did not appear");
            Thread.sleep(50);
        }
    }

    @Test
    void defaultsAreTrainsButTheBatchSizeAndTheRunIsDl4jDropBlock() {
        assertEquals(
                TrainConfig.builder()
                        .optBatchSize(32)
                        .optRegularizer(Regularizer.DROPBLOCK)
                        .optFramework(Framework.DL4J)
                        .build(),
                parse());
        String help = CliRunner.run("spark-train", "--help").out();
        assertTrue(help.contains("(default: 32)"), help);
    }

    @Test
    void everyOptionGoesIntoTheConfig() {
        assertEquals(
                TrainConfig.builder()
                        .optData("some/dir")
                        .optModel("resnet32")
                        .optEpochs(5)
                        .optBatchSize(16)
                        .optLr(0.05f)
                        .optWeightDecay(1e-4f)
                        .optSeed(7)
                        .optBlockSize(5)
                        .optDropProb(0.2f)
                        .optSchedule(TrainConfig.Schedule.CONSTANT)
                        .optStages(List.of(3))
                        .optShortcut(false)
                        .optTrainLimit(100)
                        .optTestLimit(50)
                        .optFramework(Framework.DL4J)
                        .build(),
                parse(
                        "--data",
                        "some/dir",
                        "--model",
                        "resnet32",
                        "--epochs",
                        "5",
                        "--batch-size",
                        "16",
                        "--lr",
                        "0.05",
                        "--weight-decay",
                        "1e-4",
                        "--seed",
                        "7",
                        "--block-size",
                        "5",
                        "--drop-prob",
                        "0.2",
                        "--schedule",
                        "constant",
                        "--stages",
                        "3",
                        "--no-shortcut",
                        "--train-limit",
                        "100",
                        "--test-limit",
                        "50"));
    }

    @Test
    void optionsItWouldIgnoreAreUnknown() {
        // The DJL path's options that Spark training does not honour are not declared.
        for (String option : List.of("--val-split", "--augment", "--test-every")) {
            CliRunner.Result r = CliRunner.run("spark-train", option, "1");
            assertEquals(2, r.exitCode(), option);
            assertTrue(r.err().contains("Unknown option"), r.err());
        }
    }

    /** Parses spark-train's options into its config, without starting Spark. */
    private static TrainConfig parse(String... args) {
        SparkTrainCommand command = new SparkTrainCommand();
        new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return command.config();
    }
}
