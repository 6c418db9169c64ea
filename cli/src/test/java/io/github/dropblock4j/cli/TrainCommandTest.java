package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TrainCommandTest {

    // A few batches: 200 training images in batches of 50, 100 test images.
    private static final String[] SMALL = {"--train-limit", "200", "--test-limit", "100", "--batch-size", "50"};

    static String[] args(Path out, String... more) {
        return Stream.of(new String[] {"train", "--out", out.toString()}, SMALL, more).flatMap(Stream::of)
                .toArray(String[]::new);
    }

    @Test
    void trainWritesTheRunDirectory(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(args(out, "--epochs", "2"));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("epoch 2/2"), r.out());
        for (String file : List.of("metrics.csv", "summary.json", "curves.png", "config.json")) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
        assertTrue(Files.list(out.resolve("model")).anyMatch(p -> p.toString().endsWith(".params")));
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(3, csv.size());
        assertEquals(EpochMetrics.CSV_HEADER, csv.get(0));
        assertFalse(Files.exists(tmp.resolve("run.partial")));
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(8, summary.steps());
        // The linear schedule ends at the target.
        assertEquals(0.1, summary.epochs().get(1).dropProb(), 1e-6);
        // It learns: eight steps lower both losses (a run that ignored its gradients would not).
        assertTrue(summary.epochs().get(1).trainLoss() < summary.epochs().get(0).trainLoss(), summary.toString());
        assertTrue(summary.epochs().get(1).testLoss() < summary.epochs().get(0).testLoss(), summary.toString());
    }

    @Test
    void validationEveryEpochAndTestEveryKthEpoch(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(args(out, "--epochs", "3", "--val-split", "100", "--test-every", "2",
                "--augment"));
        assertEquals(0, r.exitCode(), r.err());
        List<EpochMetrics> epochs = RunDirectory.readSummary(out).orElseThrow().epochs();
        assertTrue(epochs.stream().allMatch(e -> e.validationAccuracy() >= 0 && e.validationAccuracy() <= 1));
        assertTrue(Double.isNaN(epochs.get(0).testAccuracy()), "no test pass in epoch 1");
        assertFalse(Double.isNaN(epochs.get(1).testAccuracy()), "test pass in epoch 2");
        assertFalse(Double.isNaN(epochs.get(2).testAccuracy()), "test pass after the last epoch");
        assertTrue(r.out().contains("val acc"), r.out());
    }

    @Test
    void everyRegularizerTrains(@TempDir Path tmp) {
        for (String regularizer : List.of("dropout", "spatial-dropout", "none")) {
            CliRunner.Result r = CliRunner.run(args(tmp.resolve(regularizer), "--epochs", "1", "--regularizer",
                    regularizer, "--schedule", "constant", "--stages", "3", "--no-shortcut"));
            assertEquals(0, r.exitCode(), r.err());
        }
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(new String[] {"--epochs", "0"}, "--epochs must be in [1, 10000], got 0"),
                Arguments.of(new String[] {"--drop-prob", "1.5"}, "--drop-prob must be in [0, 1), got 1.5"),
                Arguments.of(new String[] {"--model", "resnet21"}, "--model must be one of"),
                Arguments.of(new String[] {"--stages", "4"}, "--stages must be in [1, 3] for resnet20, got [4]"),
                Arguments.of(new String[] {"--regularizer", "magic"},
                        "must be dropblock, dropout, spatial-dropout or none, got magic"),
                Arguments.of(new String[] {"--schedule", "cubic"}, "must be linear or constant, got cubic"),
                Arguments.of(new String[] {"--batch-size", "x"}, "'x' is not an int"),
                Arguments.of(new String[] {"--data", "/nonexistent/dropblock4j"}, "/nonexistent/dropblock4j"),
                Arguments.of(new String[] {"--val-split", "-1"}, "--val-split must be >= 0 (0: no validation set), got -1"),
                Arguments.of(new String[] {"--val-split", "5"},
                        "--val-split must be at least the number of classes (10), got 5"),
                Arguments.of(new String[] {"--test-every", "0"}, "--test-every must be >= 1, got 0"));
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void badOptionsExitTwoAndWriteNothing(String[] bad, String message, @TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(args(out, bad));
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(0, files.count(), "nothing may be written");
        }
    }

    @Test
    void unwritableOutputExitsTwo(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        CliRunner.Result r = CliRunner.run(args(file.resolve("run")));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("cannot create directory"), r.err());
    }

    @Test
    void existingOutputIsRefused(@TempDir Path tmp) throws IOException {
        Path out = Files.createDirectories(tmp.resolve("run"));
        CliRunner.Result r = CliRunner.run(args(out));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("already exists"), r.err());
    }

    @Test
    void resumeWithoutAnInterruptedRunExitsTwo(@TempDir Path tmp) {
        CliRunner.Result r = CliRunner.run("train", "--resume", tmp.resolve("nothing").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("no interrupted run"), r.err());
    }
}
