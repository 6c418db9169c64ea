package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DJL training process killed right after its first epoch's checkpoint is resumed with --resume:
 * the finished epoch is not trained again, and the step count and both schedules continue.
 */
public class ResumeTest {

    // 300 images in batches of 50: six steps an epoch, 18 in all; the drop probability's ramp
    // ends at step 17, the last.
    private static final int STEPS_PER_EPOCH = 6;
    private static final int TOTAL_STEPS = 18;
    // The schedules are DJL trackers in float: a few ulps of 0.1.
    private static final double FLOAT_TOLERANCE = 1e-7;

    @Test
    void killedRunResumesAfterItsLastEpochWithoutRedoingItAndContinuesTheSchedules(
            @TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        ChildCli.runUntilHalted(
                tmp.resolve("child.log"),
                "1",
                "train",
                "--out",
                out.toString(),
                "--epochs",
                "3",
                "--train-limit",
                "300",
                "--test-limit",
                "100",
                "--batch-size",
                "50");
        assertFalse(Files.exists(out), "the killed run must look unfinished");
        RunDirectory.State checkpoint = RunDirectory.resume(out).loadState().orElseThrow();
        assertEquals(1, checkpoint.epochsDone());
        assertEquals(STEPS_PER_EPOCH, checkpoint.steps());

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        // Only the epochs after the checkpoint are trained, and epoch 1's row is the checkpoint's.
        assertEquals(List.of(2, 3), epochsPrinted(resumed.out()), resumed.out());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(checkpoint.epochs().get(0), summary.epochs().get(0));
        assertEquals(TOTAL_STEPS, summary.steps());
        for (EpochMetrics e : summary.epochs()) {
            int lastStep = e.epoch() * STEPS_PER_EPOCH - 1;
            assertEquals(e.epoch() * STEPS_PER_EPOCH, e.step());
            assertEquals(0.1 * lastStep / (TOTAL_STEPS - 1), e.dropProb(), FLOAT_TOLERANCE);
            assertEquals(
                    0.1 * (1 + Math.cos(Math.PI * lastStep / TOTAL_STEPS)) / 2,
                    e.learningRate(),
                    FLOAT_TOLERANCE);
        }
        assertFalse(Files.exists(tmp.resolve("run.partial")));
    }

    /**
     * Returns the epochs a training run printed a line for, in order.
     *
     * @param out what it printed
     * @return the epochs of its "epoch N/M" lines
     */
    public static List<Integer> epochsPrinted(String out) {
        Matcher m = Pattern.compile("(?m)^epoch (\\d+)/").matcher(out);
        List<Integer> epochs = new ArrayList<>();
        while (m.find()) {
            epochs.add(Integer.parseInt(m.group(1)));
        }
        assertTrue(!epochs.isEmpty(), out);
        return epochs;
    }
}
