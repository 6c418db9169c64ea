package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.HeldOutFigures;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.djl.DjlTrainer;
import io.github.dropblock4j.core.ResNetLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

public class TrainCommandTest {

    // A few batches: 200 training images in batches of 50, 100 test images.
    private static final String[] SMALL = {
        "--train-limit", "200", "--test-limit", "100", "--batch-size", "50"
    };

    /** The arguments of a small train run into {@code out}, then {@code more}. */
    public static String[] args(Path out, String... more) {
        return Stream.of(new String[] {"train", "--out", out.toString()}, SMALL, more)
                .flatMap(Stream::of)
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
        try (var model = Files.list(out.resolve("model"))) {
            assertTrue(model.anyMatch(p -> p.toString().endsWith(".params")));
        }
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(3, csv.size());
        assertEquals(EpochMetrics.CSV_HEADER, csv.get(0));
        assertFalse(Files.exists(tmp.resolve("run.partial")));
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(8, summary.steps());
        // The linear schedule ends at the target.
        assertEquals(0.1, summary.epochs().get(1).dropProb(), 1e-6);
        // It learns: eight steps lower both losses (a run that ignored its gradients would not).
        assertTrue(
                summary.epochs().get(1).trainLoss() < summary.epochs().get(0).trainLoss(),
                summary.toString());
        assertTrue(
                summary.epochs().get(1).testLoss() < summary.epochs().get(0).testLoss(),
                summary.toString());
    }

    @Test
    void validationEveryEpochAndTestEveryKthEpoch(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r =
                CliRunner.run(
                        args(
                                out,
                                "--epochs",
                                "3",
                                "--val-split",
                                "100",
                                "--test-every",
                                "2",
                                "--augment"));
        assertEquals(0, r.exitCode(), r.err());
        List<EpochMetrics> epochs = RunDirectory.readSummary(out).orElseThrow().epochs();
        assertTrue(
                epochs.stream()
                        .allMatch(e -> e.validationAccuracy() >= 0 && e.validationAccuracy() <= 1));
        assertTrue(Double.isNaN(epochs.get(0).testAccuracy()), "no test pass in epoch 1");
        assertFalse(Double.isNaN(epochs.get(1).testAccuracy()), "test pass in epoch 2");
        assertFalse(Double.isNaN(epochs.get(2).testAccuracy()), "test pass after the last epoch");
        assertTrue(r.out().contains("val acc"), r.out());
    }

    @Test
    void everyRegularizerTrains(@TempDir Path tmp) {
        for (String regularizer : List.of("dropout", "spatial-dropout", "none")) {
            CliRunner.Result r =
                    CliRunner.run(
                            args(
                                    tmp.resolve(regularizer),
                                    "--epochs",
                                    "1",
                                    "--regularizer",
                                    regularizer,
                                    "--schedule",
                                    "constant",
                                    "--stages",
                                    "3",
                                    "--no-shortcut"));
            assertEquals(0, r.exitCode(), r.err());
        }
        // No DropBlock, nothing dropped: the realised rate is 0, not "not measured".
        RunSummary none = RunDirectory.readSummary(tmp.resolve("none")).orElseThrow();
        assertEquals(0.0, none.epochs().get(0).realisedDropRate());
    }

    // The realised drop rate of one epoch of 200 images: the two DropBlock stages of ResNet-20
    // hold about 200 * (3 * 14 * 14 * 32 / 25 + 3 * 7 * 7 * 64 / 9) = 3.6e5 block-sized units,
    // so its standard error is below sqrt(0.2 * 0.8 / 3.6e5) = 7e-4, with overlapping blocks
    // less than 2e-3; five times that.
    static final double REALISED_RATE_TOLERANCE = 0.01;

    /** Checks a run's recalibrated figures and realised drop rate at a constant 0.2. */
    public static void assertRecalibratedWithRealisedRate(Path out, String console)
            throws IOException {
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertTrue(summary.config().recalibrateBn(), summary.config().toString());
        HeldOutFigures after = summary.recalibrated();
        assertTrue(after != null, summary.toString());
        for (double figure :
                new double[] {
                    after.testLoss(), after.testAccuracy(),
                    after.validationLoss(), after.validationAccuracy()
                }) {
            assertTrue(Double.isFinite(figure), after.toString());
        }
        // The same weights with other batch-norm statistics: another loss.
        assertNotEquals(summary.finalTestLoss(), after.testLoss());
        assertTrue(
                Double.isFinite(summary.epochs().get(summary.epochs().size() - 1).validationLoss()),
                summary.toString());
        assertTrue(console.contains("batch norm recalibrated:  val loss"), console);
        assertTrue(console.contains("(realised 0."), console);
        assertEquals(0.2, summary.epochs().get(0).realisedDropRate(), REALISED_RATE_TOLERANCE);
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertTrue(csv.get(0).endsWith(",realised_drop_rate"), csv.get(0));
        String[] row = csv.get(1).split(",");
        assertEquals(
                summary.epochs().get(0).realisedDropRate(),
                Double.parseDouble(row[row.length - 1]),
                1e-6);
    }

    @Test
    void recalibratedRunWithBlocksPerStageReportsBothFiguresAndTheRealisedRate(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r =
                CliRunner.run(
                        args(
                                out,
                                "--epochs",
                                "1",
                                "--val-split",
                                "50",
                                "--block-size",
                                "5,3",
                                "--schedule",
                                "constant",
                                "--drop-prob",
                                "0.2",
                                "--recalibrate-bn"));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains(" block=5,3 "), r.out());
        assertRecalibratedWithRealisedRate(out, r.out());
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(
                        new String[] {"--epochs", "0"},
                        "dropblock4j: --epochs must be in [1, 10000], got 0"),
                Arguments.of(
                        new String[] {"--drop-prob", "1.5"},
                        "dropblock4j: Invalid value for option '--drop-prob': must be in [0, 1),"
                                + " got 1.5"),
                Arguments.of(
                        new String[] {"--block-size", "0"},
                        "dropblock4j: Invalid value for option '--block-size': must be >= 1,"
                                + " got 0"),
                Arguments.of(
                        new String[] {"--block-size", "5,3,1"},
                        "dropblock4j: --block-size must have 1 value or one per stage of --stages"
                                + " (2, the last two), got 5,3,1"),
                Arguments.of(
                        new String[] {"--stages", "3", "--block-size", "5,3"},
                        "dropblock4j: --block-size must have 1 value or one per stage of --stages"
                                + " (1 for 3), got 5,3"),
                Arguments.of(
                        new String[] {"--block-size", "1.5"},
                        "dropblock4j: Invalid value for option '--block-size': a fraction of the"
                                + " map must be in (0, 1], got 1.5"),
                Arguments.of(
                        new String[] {"--model", "resnet21"},
                        "dropblock4j: --model must be one of [resnet18, resnet20, resnet32,"
                                + " resnet34, resnet44, resnet50, resnet56, resnet101, resnet110,"
                                + " resnet152], got resnet21"),
                Arguments.of(
                        new String[] {"--stages", "4"},
                        "dropblock4j: --stages must be in [1, 3] for resnet20, got [4]"),
                Arguments.of(
                        new String[] {"--model", "resnet50", "--stages", "0,4"},
                        "dropblock4j: --stages must be in [1, 4] for resnet50, got [0, 4]"),
                Arguments.of(
                        new String[] {"--regularizer", "magic"},
                        "dropblock4j: Invalid value for option '--regularizer': must be one of"
                                + " dropblock, dropout, spatial-dropout, none, got magic"),
                Arguments.of(
                        new String[] {"--schedule", "cubic"},
                        "dropblock4j: Invalid value for option '--schedule': expected one of"
                                + " [LINEAR, CONSTANT] (case-insensitive) but was 'cubic'"),
                Arguments.of(
                        new String[] {"--batch-size", "x"},
                        "dropblock4j: Invalid value for option '--batch-size': 'x' is not an int"),
                Arguments.of(
                        new String[] {"--data", "/nonexistent/dropblock4j"},
                        "dropblock4j: --data /nonexistent/dropblock4j: no such directory"),
                Arguments.of(
                        new String[] {"--val-split", "-1"},
                        "dropblock4j: --val-split must be >= 0 (0: no validation set), got -1"),
                Arguments.of(
                        new String[] {"--val-split", "5"},
                        "dropblock4j: --val-split must be at least the number of classes (10),"
                                + " got 5"),
                Arguments.of(
                        new String[] {"--test-every", "0"},
                        "dropblock4j: --test-every must be >= 1, got 0"));
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void badOptionsExitTwoWithOneLineAndWriteNothing(
            String[] bad, String message, @TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(args(out, bad));
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith(message), r.err());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(0, files.count(), "nothing may be written");
        }
    }

    /** Every model with every one of its stages, for the trainers' tests too. */
    public static Stream<Arguments> everyModelWithEveryStage() {
        return ResNetLayout.DEPTHS.stream()
                .flatMap(
                        depth ->
                                IntStream.rangeClosed(1, ResNetLayout.of(depth).numStages())
                                        .mapToObj(stage -> Arguments.of("resnet" + depth, stage)));
    }

    @ParameterizedTest
    @MethodSource("everyModelWithEveryStage")
    void everyModelTakesEveryOneOfItsStages(String model, int stage) {
        TrainConfig config = parse("--model", model, "--stages", String.valueOf(stage));
        assertEquals(model, config.model());
        assertEquals(List.of(stage), config.stages());
    }

    @ParameterizedTest
    @MethodSource("everyModelWithEveryStage")
    void everyModelRefusesTheStageAfterItsLast(String model, int stage) {
        int numStages = ResNetLayout.of(Integer.parseInt(model.substring(6))).numStages();
        ParameterException e =
                assertThrows(
                        ParameterException.class,
                        () -> parse("--model", model, "--stages", stage + "," + (numStages + 1)));
        assertEquals(
                "--stages must be in [1, "
                        + numStages
                        + "] for "
                        + model
                        + ", got ["
                        + stage
                        + ", "
                        + (numStages + 1)
                        + "]",
                e.getMessage());
    }

    @Test
    void optionsBecomeTheConfigWithTheCommandLinesDefaults() {
        assertEquals(TrainConfig.builder().build(), parse());
        assertEquals(
                TrainConfig.builder()
                        .optModel("resnet56")
                        .optEpochs(5)
                        .optBatchSize(32)
                        .optLr(0.05f)
                        .optDropProb(0.2f)
                        .optWeightDecay(1e-4f)
                        .optSeed(7)
                        .optBlockSize(5)
                        .optSchedule(TrainConfig.Schedule.CONSTANT)
                        .optStages(List.of(2, 3))
                        .optShortcut(false)
                        .optRegularizer(Regularizer.SPATIAL_DROPOUT)
                        .optTrainLimit(100)
                        .optTestLimit(50)
                        .optValSplit(20)
                        .optAugment(true)
                        .optTestEvery(2)
                        .build(),
                parse(
                        "--model",
                        "resnet56",
                        "--epochs",
                        "5",
                        "--batch-size",
                        "32",
                        "--lr",
                        "0.05",
                        "--drop-prob",
                        "0.2",
                        "--weight-decay",
                        "1e-4",
                        "--seed",
                        "7",
                        "--block-size",
                        "5",
                        "--schedule",
                        "constant",
                        "--stages",
                        "2,3",
                        "--no-shortcut",
                        "--regularizer",
                        "spatial-dropout",
                        "--train-limit",
                        "100",
                        "--test-limit",
                        "50",
                        "--val-split",
                        "20",
                        "--augment",
                        "--test-every",
                        "2"));
    }

    @Test
    void blockSizeTakesOnePerStageOrAFraction() {
        assertEquals(
                TrainConfig.builder().optBlockSizePerStage(List.of(5, 3)).build(),
                parse("--block-size", "5,3"));
        assertEquals(
                TrainConfig.builder()
                        .optStages(List.of(1, 2, 3))
                        .optBlockFraction(List.of(0.36))
                        .build(),
                parse("--stages", "1,2,3", "--block-size", "0.36"));
        assertEquals(
                TrainConfig.builder().optRecalibrateBn(true).build(), parse("--recalibrate-bn"));
    }

    /** Parses train's options into its config, without training. */
    private static TrainConfig parse(String... args) {
        TrainCommand command = new TrainCommand();
        new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return command.config();
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

    @ParameterizedTest
    @ValueSource(strings = {RunDirectory.STATE, ".params"})
    void resumeFromADamagedCheckpointExitsTwoNamingTheFileAndChangesNothing(
            String damaged, @TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        TrainConfig config =
                TrainConfig.builder()
                        .optEpochs(2)
                        .optTrainLimit(200)
                        .optTestLimit(100)
                        .optBatchSize(50)
                        .build();
        RunDirectory dir = RunDirectory.create(out, config);
        try (Model model = Model.newInstance("damaged");
                NDManager manager = NDManager.newBaseManager()) {
            model.setBlock(DjlTrainer.network(config, new Shape(1, 28, 28), 10));
            model.getBlock().initialize(manager, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            EpochMetrics first =
                    EpochMetrics.builder()
                            .setEpoch(1)
                            .setStep(4)
                            .optTrain(2.3, 0.1)
                            .optTest(2.2, 0.1)
                            .optSchedules(0.05, 0.05)
                            .optSpeed(10, 20)
                            .optResidentMb(400)
                            .build();
            dir.saveCheckpoint(
                    p -> model.save(p, RunDirectory.MODEL),
                    new RunDirectory.State(config, 1, 4, List.of(first), 10, null));
        }
        Path file;
        try (Stream<Path> files = Files.list(dir.partial().resolve(RunDirectory.CHECKPOINT))) {
            file = files.filter(f -> f.toString().endsWith(damaged)).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        Map<Path, String> before = snapshot(tmp);

        CliRunner.Result r = CliRunner.run("train", "--resume", out.toString());
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(file.toString()), r.err());
        assertEquals(before, snapshot(tmp));
    }

    /** Every file under a directory with its size, time and a digest of its bytes. */
    private static Map<Path, String> snapshot(Path root) throws IOException {
        Map<Path, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                files.put(
                        p,
                        Files.isDirectory(p)
                                ? "dir"
                                : Files.size(p)
                                        + " "
                                        + Files.getLastModifiedTime(p)
                                        + " "
                                        + Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return files;
    }
}
