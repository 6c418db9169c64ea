package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training process killed with SIGKILL after its first epoch is resumed with --resume. */
class ResumeTest {

    private static final String[] RUN = {"--epochs", "3", "--train-limit", "300", "--test-limit", "100",
        "--batch-size", "50"};

    @Test
    void killedRunResumesToTheSameStepsAndSchedule(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path state = tmp.resolve("run.partial").resolve("checkpoint").resolve("state.json");
        Process process = start(out);
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (!Files.exists(state) && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(state), "the first epoch's checkpoint never appeared");
        } finally {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(out.resolve("summary.json")), "the killed run must not look finished");

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        List<String> straightArgs = new ArrayList<>(List.of("train", "--out", tmp.resolve("straight").toString()));
        straightArgs.addAll(List.of(RUN));
        CliRunner.Result straight = CliRunner.run(straightArgs.toArray(String[]::new));
        assertEquals(0, straight.exitCode(), straight.err());
        RunSummary reference = RunDirectory.readSummary(tmp.resolve("straight")).orElseThrow();
        assertEquals(reference.steps(), summary.steps());
        assertEquals(3, summary.epochs().size());
        for (int e = 0; e < 3; e++) {
            assertEquals(reference.epochs().get(e).dropProb(), summary.epochs().get(e).dropProb(), 1e-7);
            assertEquals(reference.epochs().get(e).step(), summary.epochs().get(e).step());
        }
        assertFalse(Files.exists(tmp.resolve("run.partial")));
    }

    private static Process start(Path out) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--out", out.toString()));
        args.addAll(List.of(RUN));
        return ChildCli.start(out.resolveSibling("child.log"), List.of(), args.toArray(String[]::new));
    }
}
