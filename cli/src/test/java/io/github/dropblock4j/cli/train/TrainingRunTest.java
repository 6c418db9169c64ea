package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunDirectory.PartialEpoch;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The epoch loop on a trainer that records what it is asked, with no framework. */
class TrainingRunTest {

    // Sums of a few exact binary fractions.
    private static final double TOLERANCE = 1e-12;

    // 200 training images in batches of 50: four steps an epoch.
    private static final TrainConfig CONFIG =
            TrainConfig.builder()
                    .optEpochs(2)
                    .optTrainLimit(200)
                    .optTestLimit(100)
                    .optBatchSize(50)
                    .optLr(0.5f)
                    .build();
    private static final ImageTrainingData DATA =
            new ImageTrainingData(
                    DataSource.embedded().train(), DataSource.embedded().test(), CONFIG);

    /** Each training batch has 50 images, loss 1 each and 25 right, unless it is poisoned. */
    private static final class RecordingTrainer implements Trainer {
        final List<String> calls = new ArrayList<>();
        final int poisonedStep;
        int steps;
        boolean closed;
        boolean recalibrated;

        RecordingTrainer(int poisonedStep) {
            this.poisonedStep = poisonedStep;
        }

        @Override
        public void start(Optional<Path> checkpoint) {
            calls.add("start " + checkpoint.isPresent());
            steps = checkpoint.isPresent() ? 6 : 0;
        }

        @Override
        public String describe() {
            return "recording";
        }

        @Override
        public int trainBatches() {
            return 4;
        }

        @Override
        public void startEpoch(int epoch) {
            calls.add("epoch " + epoch);
        }

        @Override
        public BatchResult trainBatch(int index) {
            calls.add("train " + index);
            steps++;
            return new BatchResult(50, steps == poisonedStep ? Double.NaN : 50, 25);
        }

        @Override
        public int heldOutBatches(HeldOut set) {
            return 2;
        }

        @Override
        public BatchResult evaluateBatch(HeldOut set, int index) {
            calls.add(set + " " + index);
            // Recalibrated: loss 1 a image and 45 of 50 right, instead of 2 and 40.
            return recalibrated ? new BatchResult(50, 50, 45) : new BatchResult(50, 100, 40);
        }

        @Override
        public double realisedDropRate() {
            return 0.005 * steps;
        }

        @Override
        public void recalibrateBatchNorm() {
            calls.add("recalibrate");
            recalibrated = true;
        }

        @Override
        public void endEpoch() {}

        @Override
        public void save(Path folder) throws IOException {
            Files.writeString(
                    folder.resolve("model.txt"),
                    "steps " + steps + (recalibrated ? " recalibrated" : ""));
        }

        @Override
        public int stepsDone() {
            return steps;
        }

        @Override
        public double dropProb() {
            return 0.01 * steps;
        }

        @Override
        public double learningRate() {
            return 0.5 / steps;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static RunConsole console(StopRequest stop) {
        PrintWriter quiet = new PrintWriter(new StringWriter(), true);
        return new RunConsole(quiet, new ProgressBar(quiet, false), stop);
    }

    @Test
    void aLossThatIsNotFiniteStopsTheRunNamingEpochStepAndRate(@TempDir Path tmp) {
        RecordingTrainer trainer = new RecordingTrainer(7);
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        try (StopRequest stop = StopRequest.onSignal()) {
            RunDivergedException e =
                    assertThrows(
                            RunDivergedException.class,
                            () ->
                                    new TrainingRun(CONFIG, DATA, console(stop), () -> trainer)
                                            .run(dir));
            assertEquals(
                    "training diverged: loss NaN at epoch 2, step 7 (--lr 0.5); try a smaller"
                            + " --lr",
                    e.getMessage());
        }
        assertTrue(trainer.closed);
    }

    @Test
    void aRunResumedInsideAnEpochTrainsOnlyTheBatchesLeftAndCountsTheOnesDone(@TempDir Path tmp)
            throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        // Stopped in epoch 2 after two of its batches, with loss 2 a image and 30 of 50 right.
        dir.saveCheckpoint(
                folder -> Files.writeString(folder.resolve("model.txt"), "steps 6"),
                new RunDirectory.State(
                        CONFIG,
                        1,
                        6,
                        List.of(EpochMetrics.builder().setEpoch(1).setStep(4).build()),
                        3,
                        new PartialEpoch(2, 2, 100, 2.0, 0.6, 1.5)));
        RecordingTrainer trainer = new RecordingTrainer(0);
        RunSummary summary;
        try (StopRequest stop = StopRequest.onSignal()) {
            summary = new TrainingRun(CONFIG, DATA, console(stop), () -> trainer).run(dir);
        }
        assertEquals(
                List.of("start true", "epoch 2", "train 2", "train 3", "TEST 0", "TEST 1"),
                trainer.calls);
        assertEquals(8, summary.steps());
        // Two batches of the checkpoint (loss 2, 60 % right) and two new ones (loss 1, 50 %).
        assertEquals(1.5, summary.epochs().get(1).trainLoss(), TOLERANCE);
        assertEquals(0.55, summary.epochs().get(1).trainAccuracy(), TOLERANCE);
        assertEquals(2.0, summary.epochs().get(1).testLoss(), TOLERANCE);
        assertEquals(0.8, summary.epochs().get(1).testAccuracy(), TOLERANCE);
        assertEquals(0.08, summary.epochs().get(1).dropProb(), TOLERANCE);
        assertTrue(Double.isNaN(summary.epochs().get(1).validationAccuracy()));
        assertEquals(
                "steps 8",
                Files.readString(dir.out().resolve(RunDirectory.MODEL).resolve("model.txt")));
        assertTrue(trainer.closed);
    }

    @Test
    void recalibrationFollowsTheLastCheckpointAndTheSummaryHoldsBothFigures(@TempDir Path tmp)
            throws IOException {
        TrainConfig config = CONFIG.toBuilder().optEpochs(1).optRecalibrateBn(true).build();
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), config);
        RecordingTrainer trainer = new RecordingTrainer(0);
        RunSummary summary;
        try (StopRequest stop = StopRequest.onSignal()) {
            summary = new TrainingRun(config, DATA, console(stop), () -> trainer).run(dir);
        }
        assertEquals(
                List.of(
                        "start false",
                        "epoch 1",
                        "train 0",
                        "train 1",
                        "train 2",
                        "train 3",
                        "TEST 0",
                        "TEST 1",
                        "recalibrate",
                        "TEST 0",
                        "TEST 1"),
                trainer.calls);
        // Before: the last epoch's figures; after: the recalibrated network's.
        assertEquals(0.8, summary.finalTestAccuracy(), TOLERANCE);
        assertEquals(2.0, summary.finalTestLoss(), TOLERANCE);
        assertEquals(0.9, summary.recalibrated().testAccuracy(), TOLERANCE);
        assertEquals(1.0, summary.recalibrated().testLoss(), TOLERANCE);
        assertTrue(Double.isNaN(summary.recalibrated().validationAccuracy()));
        assertEquals(0.02, summary.epochs().get(0).realisedDropRate(), TOLERANCE);
        assertEquals(summary, RunDirectory.readSummary(dir.out()).orElseThrow());
        // The finished model is the recalibrated one.
        assertEquals(
                "steps 4 recalibrated",
                Files.readString(dir.out().resolve(RunDirectory.MODEL).resolve("model.txt")));
    }

    @Test
    void aRunWithoutRecalibrationHasNoRecalibratedFigures(@TempDir Path tmp) throws IOException {
        TrainConfig config = CONFIG.toBuilder().optEpochs(1).build();
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), config);
        RecordingTrainer trainer = new RecordingTrainer(0);
        RunSummary summary;
        try (StopRequest stop = StopRequest.onSignal()) {
            summary = new TrainingRun(config, DATA, console(stop), () -> trainer).run(dir);
        }
        assertTrue(!trainer.calls.contains("recalibrate"), trainer.calls.toString());
        assertEquals(null, summary.recalibrated());
        assertEquals(null, RunDirectory.readSummary(dir.out()).orElseThrow().recalibrated());
    }
}
