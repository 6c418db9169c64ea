package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Dl4jTrainingRunTest {

    @Test
    void dl4jTrainsTheResNetAndWritesTheSameRunDirectory(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r =
                CliRunner.run(TrainCommandTest.args(out, "--framework", "dl4j", "--epochs", "2"));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("framework=dl4j"), r.out());
        assertTrue(r.out().contains("epoch 2/2"), r.out());
        assertTrue(r.out().contains("oneDNN: on (42 of 42 "), r.out());
        for (String file : List.of("metrics.csv", "summary.json", "curves.png", "config.json")) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
        assertFalse(Files.exists(tmp.resolve("run.partial")));
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(3, csv.size());
        assertEquals(EpochMetrics.CSV_HEADER, csv.get(0));
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals("dl4j", summary.config().framework());
        // 200 images in batches of 50, two epochs.
        assertEquals(8, summary.steps());
        // The linear schedule ends at the target.
        assertEquals(0.1, summary.epochs().get(1).dropProb(), 1e-6);
        assertTrue(summary.epochs().get(0).dropProb() < 0.1);
        for (EpochMetrics m : summary.epochs()) {
            assertTrue(m.trainLoss() > 0 && Double.isFinite(m.trainLoss()), m.toString());
            assertTrue(m.testAccuracy() >= 0 && m.testAccuracy() <= 1, m.toString());
        }
        // The saved model is the trained ResNet-20 with its DropBlocks and iteration count.
        ComputationGraph net =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve(Dl4jTrainingRun.MODEL_FILE).toFile(), true);
        assertEquals(8, net.getIterationCount());
        assertTrue(net.getConfiguration().getVertices().containsKey("s3u2_shortcut_drop"));
    }

    @Test
    void killedRunResumesWithItsScheduleAndIterationCount(@TempDir Path tmp) throws Exception {
        // 100 images in batches of 50: two steps an epoch.
        Path out = tmp.resolve("run");
        Path state = tmp.resolve("run.partial").resolve("checkpoint").resolve("state.json");
        Process process =
                ChildCli.start(
                        tmp.resolve("child.log"),
                        List.of(),
                        "train",
                        "--out",
                        out.toString(),
                        "--framework",
                        "dl4j",
                        "--epochs",
                        "3",
                        "--train-limit",
                        "100",
                        "--test-limit",
                        "50",
                        "--batch-size",
                        "50");
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(state) && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(state), "the first epoch's checkpoint never appeared");
        } finally {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        assertFalse(
                Files.exists(out.resolve("summary.json")), "the killed run must not look finished");

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(6, summary.steps());
        assertEquals(3, summary.epochs().size());
        // The linear schedule over 6 steps, continued where the checkpoint left it. The target is
        // the float 0.1f, 1.5e-9 above 0.1.
        for (int e = 0; e < 3; e++) {
            assertEquals(2 * (e + 1), summary.epochs().get(e).step());
            assertEquals((double) 0.1f * (e + 1) / 3, summary.epochs().get(e).dropProb(), 1e-12);
        }
        ComputationGraph net =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve(Dl4jTrainingRun.MODEL_FILE).toFile(), true);
        assertEquals(6, net.getIterationCount());
    }

    @Test
    void unknownFrameworkExitsTwoNamingIt(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(TrainCommandTest.args(out, "--framework", "tf"));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("--framework must be one of [djl, dl4j], got tf"), r.err());
        assertFalse(Files.exists(out));
    }
}
