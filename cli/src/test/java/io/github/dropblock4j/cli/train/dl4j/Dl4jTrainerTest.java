package io.github.dropblock4j.cli.train.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.train.ResumeTest;
import io.github.dropblock4j.cli.train.TrainCommandTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Dl4jTrainerTest {

    // The learning rate is DL4J's schedule in double from the float --lr: exact to far better
    // than this.
    private static final double TOLERANCE = 1e-9;
    // The drop probability comes from the float --drop-prob through a keep probability near 1:
    // within float's resolution at 1, 6e-8.
    private static final double KEEP_TOLERANCE = 1e-7;

    @Test
    void dl4jTrainsTheResNetLearnsAndWritesTheSameRunDirectory(@TempDir Path tmp)
            throws IOException {
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
        assertEquals(Framework.DL4J, summary.config().framework());
        // 200 images in batches of 50, two epochs.
        assertEquals(8, summary.steps());
        // The linear schedule reaches the target on the last step, 7.
        assertEquals(0.1, summary.epochs().get(1).dropProb(), 1e-6);
        assertEquals(0.1 * 3 / 7, summary.epochs().get(0).dropProb(), KEEP_TOLERANCE);
        // It learns: eight steps lower both losses (a run that ignored its gradients would not).
        assertTrue(
                summary.epochs().get(1).trainLoss() < summary.epochs().get(0).trainLoss(),
                summary.toString());
        assertTrue(
                summary.epochs().get(1).testLoss() < summary.epochs().get(0).testLoss(),
                summary.toString());
        // The saved model is the trained ResNet-20 with its DropBlocks and iteration count.
        ComputationGraph net =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve(Dl4jTrainer.MODEL_FILE).toFile(), true);
        assertEquals(8, net.getIterationCount());
        assertTrue(net.getConfiguration().getVertices().containsKey("s3u2_shortcut_drop"));
    }

    @Test
    void recalibratedRunWithFractionalBlocksReportsBothFiguresAndTheRealisedRate(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("run");
        CliRunner.Result r =
                CliRunner.run(
                        TrainCommandTest.args(
                                out,
                                "--framework",
                                "dl4j",
                                "--epochs",
                                "1",
                                "--val-split",
                                "50",
                                "--block-size",
                                "0.36",
                                "--schedule",
                                "constant",
                                "--drop-prob",
                                "0.2",
                                "--recalibrate-bn"));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains(" block=0.36 "), r.out());
        TrainCommandTest.assertRecalibratedWithRealisedRate(out, r.out());
    }

    @Test
    void runKilledBetweenTheRenamesOfACheckpointResumesFromThePreviousOne(@TempDir Path tmp)
            throws Exception {
        // 100 images in batches of 50: two steps an epoch, six in all; the ramp ends at step 5.
        Path out = tmp.resolve("run");
        ChildCli.runUntilHalted(
                tmp.resolve("child.log"),
                "2:between-renames",
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
        Path partial = tmp.resolve("run.partial");
        // Epoch 1's checkpoint was renamed out of the way; epoch 2's never took its place.
        assertTrue(Files.isDirectory(partial.resolve(RunDirectory.CHECKPOINT + ".old")));
        assertFalse(Files.exists(partial.resolve(RunDirectory.CHECKPOINT)));
        RunDirectory.State checkpoint = RunDirectory.resume(out).loadState().orElseThrow();
        assertEquals(1, checkpoint.epochsDone());

        CliRunner.Result resumed = CliRunner.run("train", "--resume", out.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertEquals(List.of(2, 3), ResumeTest.epochsPrinted(resumed.out()), resumed.out());
        RunSummary summary = RunDirectory.readSummary(out).orElseThrow();
        assertEquals(checkpoint.epochs().get(0), summary.epochs().get(0));
        assertEquals(6, summary.steps());
        for (EpochMetrics e : summary.epochs()) {
            int lastStep = 2 * e.epoch() - 1;
            assertEquals(2 * e.epoch(), e.step());
            assertEquals(0.1 * lastStep / 5, e.dropProb(), KEEP_TOLERANCE);
            assertEquals(
                    0.1f * (1 + Math.cos(Math.PI * lastStep / 6)) / 2, e.learningRate(), TOLERANCE);
        }
        ComputationGraph net =
                ModelSerializer.restoreComputationGraph(
                        out.resolve("model").resolve(Dl4jTrainer.MODEL_FILE).toFile(), true);
        assertEquals(6, net.getIterationCount());
    }

    @Test
    void unknownFrameworkExitsTwoNamingIt(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run(TrainCommandTest.args(out, "--framework", "tf"));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(
                r.err()
                        .contains(
                                "Invalid value for option '--framework': must be one of djl,"
                                        + " dl4j, got tf"),
                r.err());
        assertFalse(Files.exists(out));
    }
}
