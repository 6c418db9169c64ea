package io.github.dropblock4j.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.input.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {

    private static final TrainConfig CONFIG = TrainConfig.builder().optEpochs(2).build();
    private static final EpochMetrics EPOCH =
            EpochMetrics.builder()
                    .setEpoch(1)
                    .setStep(4)
                    .optTrain(2.3, 0.1)
                    .optTest(2.2, 0.12)
                    .optSchedules(0.05, 0.05)
                    .optSpeed(1.5, 130)
                    .optResidentMb(450)
                    .build();

    private static RunDirectory.State afterEpoch(int epoch) {
        return new RunDirectory.State(
                CONFIG, epoch, 4 * epoch, List.of(EPOCH, EPOCH).subList(0, epoch), epoch, null);
    }

    @Test
    void aNewRunHasNoCheckpointToRestore(@TempDir Path tmp) {
        assertTrue(RunDirectory.create(tmp.resolve("run"), CONFIG).checkpointDirectory().isEmpty());
    }

    @Test
    void failedCheckpointWriteLeavesThePreviousCheckpoint(@TempDir Path tmp) throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        dir.saveCheckpoint(
                p -> Files.writeString(p.resolve("model-0001.params"), "one"), afterEpoch(1));
        IOException e =
                assertThrows(
                        IOException.class,
                        () ->
                                dir.saveCheckpoint(
                                        p -> {
                                            Files.writeString(
                                                    p.resolve("model-0002.params"), "half");
                                            throw new IOException("No space left on device");
                                        },
                                        afterEpoch(2)));
        assertEquals("No space left on device", e.getMessage());
        assertEquals(afterEpoch(1), dir.loadState().orElseThrow());
        Path checkpoint = dir.partial().resolve(RunDirectory.CHECKPOINT);
        assertEquals("one", Files.readString(checkpoint.resolve("model-0001.params")));
        assertFalse(Files.exists(checkpoint.resolve("model-0002.params")));
        // The next write that succeeds replaces it as if nothing had failed.
        dir.saveCheckpoint(
                p -> Files.writeString(p.resolve("model-0002.params"), "two"), afterEpoch(2));
        assertEquals(afterEpoch(2), dir.loadState().orElseThrow());
        try (var files = Files.list(dir.partial())) {
            assertEquals(
                    List.of(RunDirectory.CHECKPOINT, RunDirectory.CONFIG),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void checkpointLeftUnderItsOldNameByAFailedSwapIsFound(@TempDir Path tmp) throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        dir.saveCheckpoint(
                p -> Files.writeString(p.resolve("model-0001.params"), "one"), afterEpoch(1));
        Path old = dir.partial().resolve(RunDirectory.CHECKPOINT + ".old");
        Files.move(dir.partial().resolve(RunDirectory.CHECKPOINT), old);
        assertEquals(afterEpoch(1), dir.loadState().orElseThrow());
        // The run restores its model from the folder the state came from.
        assertEquals(old, dir.checkpointDirectory().orElseThrow());
        // The next checkpoint takes the usual name and the old one goes.
        dir.saveCheckpoint(
                p -> Files.writeString(p.resolve("model-0002.params"), "two"), afterEpoch(2));
        assertEquals(
                dir.partial().resolve(RunDirectory.CHECKPOINT),
                dir.checkpointDirectory().orElseThrow());
        assertFalse(Files.exists(old));
    }

    @Test
    void truncatedStateIsRefusedNamingTheFile(@TempDir Path tmp) throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        dir.saveCheckpoint(
                p -> Files.writeString(p.resolve("model-0001.params"), "one"), afterEpoch(1));
        Path state = dir.partial().resolve(RunDirectory.CHECKPOINT).resolve(RunDirectory.STATE);
        String json = Files.readString(state);
        Files.writeString(state, json.substring(0, json.length() / 2));
        BadInputException e = assertThrows(BadInputException.class, dir::loadState);
        assertTrue(
                e.getMessage().startsWith("cannot read checkpoint " + state + ": "),
                e.getMessage());
    }

    @Test
    void configReadBackEqualsTheOneWritten(@TempDir Path tmp) {
        TrainConfig config =
                TrainConfig.builder()
                        .optData("fashion-mnist")
                        .optModel("resnet56")
                        .optEpochs(30)
                        .optBatchSize(128)
                        .optLr(0.05f)
                        .optWeightDecay(1e-4f)
                        .optSeed(4)
                        .optBlockSize(5)
                        .optDropProb(0.15f)
                        .optSchedule(TrainConfig.Schedule.CONSTANT)
                        .optStages(List.of(3))
                        .optShortcut(false)
                        .optRegularizer(Regularizer.DROPOUT)
                        .optTrainLimit(1000)
                        .optTestLimit(2000)
                        .optValSplit(500)
                        .optAugment(true)
                        .optTestEvery(5)
                        .build();
        assertEquals(config, RunDirectory.create(tmp.resolve("run"), config).readConfig());
    }

    @Test
    void blockSizesPerStageFractionsAndRecalibrationRoundTrip(@TempDir Path tmp) {
        TrainConfig perStage =
                TrainConfig.builder()
                        .optBlockSizePerStage(List.of(5, 3))
                        .optRecalibrateBn(true)
                        .build();
        assertEquals(perStage, RunDirectory.create(tmp.resolve("a"), perStage).readConfig());
        TrainConfig fraction = TrainConfig.builder().optBlockFraction(List.of(0.36, 0.5)).build();
        assertEquals(fraction, RunDirectory.create(tmp.resolve("b"), fraction).readConfig());
    }

    @Test
    void settingsMissingFromAnOlderFileTakeTheDefaults(@TempDir Path tmp) throws IOException {
        // config.json as the first ablation wrote it, before --val-split, --augment and
        // --test-every existed.
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        Files.writeString(
                dir.partial().resolve(RunDirectory.CONFIG),
                """
                {
                  "data": "fashion-mnist", "model": "resnet20", "epochs": 30, "batchSize": 64,
                  "lr": 0.1, "weightDecay": 5.0E-4, "seed": 1, "blockSize": 7, "dropProb": 0.1,
                  "schedule": "LINEAR", "shortcut": true, "regularizer": "NONE",
                  "trainLimit": 1000, "testLimit": 2000
                }\
                """);
        assertEquals(
                TrainConfig.builder()
                        .optData("fashion-mnist")
                        .optEpochs(30)
                        .optRegularizer(Regularizer.NONE)
                        .optTrainLimit(1000)
                        .optTestLimit(2000)
                        .build(),
                dir.readConfig());
    }

    @Test
    void summaryWrittenBeforeTheRecordIsReadWithAnEqualConfig(@TempDir Path tmp)
            throws IOException {
        // summary.json as version 0.1.0 wrote it when its settings were a mutable bean: the
        // ablation compares such configs with the ones it builds to reuse finished runs.
        Path run = Files.createDirectories(tmp.resolve("run"));
        try (InputStream in = getClass().getResourceAsStream("summary-0.1.0.json")) {
            Files.copy(in, run.resolve(RunDirectory.SUMMARY));
        }
        RunSummary summary = RunDirectory.readSummary(run).orElseThrow();
        assertEquals(
                TrainConfig.builder()
                        .optEpochs(2)
                        .optBatchSize(50)
                        .optTrainLimit(230)
                        .optTestLimit(130)
                        .optValSplit(100)
                        .build(),
                summary.config());
        assertEquals(List.of(1, 2), summary.epochs().stream().map(EpochMetrics::epoch).toList());
        assertEquals(10, summary.steps());
        // A column added since reads as not measured.
        assertTrue(Double.isNaN(summary.epochs().get(0).trainEvalAccuracy()));
        assertTrue(Double.isNaN(summary.epochs().get(0).realisedDropRate()));
        assertNull(summary.recalibrated());
        assertTrue(summary.epochs().get(0).trainAccuracy() > 0);
    }

    @Test
    void settingRefusedByTheConfigIsBadInputNamingTheFile(@TempDir Path tmp) throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        Path file = dir.partial().resolve(RunDirectory.CONFIG);
        Files.writeString(file, "{\"epochs\": 0}");
        BadInputException e = assertThrows(BadInputException.class, dir::readConfig);
        assertEquals(
                "cannot read the run's settings "
                        + file
                        + ": --epochs must be in [1, 10000], got 0",
                e.getMessage());
    }
}
