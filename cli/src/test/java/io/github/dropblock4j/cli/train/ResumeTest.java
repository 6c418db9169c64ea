package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training process killed with SIGKILL after its first epoch is resumed with --resume. */
class ResumeTest {

    private static final String[] RUN = {
        "--epochs", "3", "--train-limit", "300", "--test-limit", "100", "--batch-size", "50"
    };

    @Test
    void killedRunResumesAfterItsLastEpochToTheSameStepsAndSchedule(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("run");
        Process process = start(out);
        try {
            awaitCheckpoint(tmp.resolve("run.partial"), process);
        } finally {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        assertFalse(
                Files.exists(out.resolve("summary.json")), "the killed run must look unfinished");
        RunDirectory.State checkpoint = RunDirectory.resume(out).loadState().orElseThrow();

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        // Only the epochs after the checkpoint are trained again.
        assertEquals(checkpoint.epochsDone() + 1, firstEpochPrinted(resumed.out()), resumed.out());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(checkpoint.epochs(), summary.epochs().subList(0, checkpoint.epochsDone()));
        List<String> straightArgs =
                new ArrayList<>(List.of("train", "--out", tmp.resolve("straight").toString()));
        straightArgs.addAll(List.of(RUN));
        CliRunner.Result straight = CliRunner.run(straightArgs.toArray(String[]::new));
        assertEquals(0, straight.exitCode(), straight.err());
        RunSummary reference = RunDirectory.readSummary(tmp.resolve("straight")).orElseThrow();
        assertEquals(reference.steps(), summary.steps());
        assertEquals(3, summary.epochs().size());
        for (int e = 0; e < 3; e++) {
            assertEquals(e + 1, summary.epochs().get(e).epoch());
            assertEquals(
                    reference.epochs().get(e).dropProb(), summary.epochs().get(e).dropProb(), 1e-7);
            assertEquals(reference.epochs().get(e).step(), summary.epochs().get(e).step());
        }
        assertFalse(Files.exists(tmp.resolve("run.partial")));
    }

    /**
     * Waits until a run in a child process has written its first checkpoint.
     *
     * @param partial the run's partial directory
     * @param process the child
     */
    static void awaitCheckpoint(Path partial, Process process) throws InterruptedException {
        Path state = partial.resolve(RunDirectory.CHECKPOINT).resolve(RunDirectory.STATE);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.exists(state) && process.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(state), "the first epoch's checkpoint never appeared");
    }

    /**
     * Returns the first epoch a training run printed a line for.
     *
     * @param out what it printed
     * @return the epoch of the first "epoch N/M" line
     */
    static int firstEpochPrinted(String out) {
        Matcher m = Pattern.compile("(?m)^epoch (\\d+)/").matcher(out);
        assertTrue(m.find(), out);
        return Integer.parseInt(m.group(1));
    }

    private static Process start(Path out) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--out", out.toString()));
        args.addAll(List.of(RUN));
        return ChildCli.start(
                out.resolveSibling("child.log"), List.of(), args.toArray(String[]::new));
    }
}
