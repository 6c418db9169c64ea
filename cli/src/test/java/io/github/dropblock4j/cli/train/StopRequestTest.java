package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM stops a training process after its current batch, with a checkpoint to resume. */
class StopRequestTest {

    // 600 training images in batches of 50: twelve steps an epoch, so that a signal sent as
    // training starts arrives inside the first epoch.
    private static final int STEPS_PER_EPOCH = 12;

    @Test
    void sigtermCheckpointsEveryFinishedBatchAndExits130(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("child.log");
        Process process =
                ChildCli.start(
                        log,
                        List.of(),
                        "train",
                        "--out",
                        out.toString(),
                        "--epochs",
                        "2",
                        "--train-limit",
                        "600",
                        "--test-limit",
                        "100",
                        "--batch-size",
                        "50");
        try {
            ChildCli.terminateAfter(process, log, "data: ");
        } finally {
            process.destroyForcibly();
        }
        String printed = Files.readString(log);
        assertEquals(StopRequest.EXIT_CODE, process.exitValue(), printed);
        assertTrue(printed.contains("continue with: ./dropblock4j train --resume " + out), printed);
        RunDirectory.State state = RunDirectory.resume(out).loadState().orElseThrow();
        // Every batch trained before the signal is in the checkpoint, not only finished epochs.
        int batchesInside = state.partial() == null ? 0 : state.partial().batches();
        assertEquals(
                state.epochsDone() * STEPS_PER_EPOCH + batchesInside,
                state.steps(),
                state.toString());
        assertTrue(state.steps() >= 1, "the batch in progress is finished: " + state);

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertEquals(
                state.epochsDone() + 1,
                ResumeTest.epochsPrinted(resumed.out()).get(0),
                resumed.out());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(2 * STEPS_PER_EPOCH, summary.steps());
        assertEquals(List.of(1, 2), summary.epochs().stream().map(e -> e.epoch()).toList());
        assertTrue(
                summary.epochs().stream()
                        .allMatch(
                                e ->
                                        Double.isFinite(e.trainLoss())
                                                && e.trainAccuracy() >= 0
                                                && e.trainAccuracy() <= 1),
                summary.toString());
    }
}
