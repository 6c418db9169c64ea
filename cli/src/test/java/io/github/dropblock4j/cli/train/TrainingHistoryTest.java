package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingHistoryTest {

    // Summed and divided doubles of a few terms: exact to far better than this.
    private static final double TOLERANCE = 1e-9;

    private static final TrainConfig CONFIG = TrainConfig.builder().optEpochs(3).build();

    private static EpochMetrics epoch(int epoch, double testAccuracy, double validationAccuracy) {
        return EpochMetrics.builder()
                .setEpoch(epoch)
                .setStep(10 * epoch)
                .optTrain(1.5, 0.4)
                .optTest(Double.isNaN(testAccuracy) ? Double.NaN : 1.2, testAccuracy)
                .optValidation(
                        Double.isNaN(validationAccuracy) ? Double.NaN : 1.3, validationAccuracy)
                .optSchedules(0.05, 0.01)
                .optSpeed(2.0, 50)
                .build();
    }

    private static void noModel(Path path) throws IOException {
        Files.writeString(path.resolve("model.txt"), "weights");
    }

    @Test
    void theLineShowsOnlyWhatTheEpochMeasured(@TempDir Path tmp) {
        StringWriter out = new StringWriter();
        TrainingHistory history =
                new TrainingHistory(
                        CONFIG,
                        RunDirectory.create(tmp.resolve("run"), CONFIG),
                        new PrintWriter(out, true));
        history.startEpoch();
        history.endEpoch(epoch(1, Double.NaN, 0.5));
        history.startEpoch();
        history.endEpoch(epoch(2, 0.6, Double.NaN));
        List<String> lines = out.toString().lines().toList();
        assertEquals(2, lines.size(), out.toString());
        assertTrue(lines.get(0).startsWith("epoch 1/3  step 10  train loss 1.5000"), lines.get(0));
        assertTrue(lines.get(0).contains("val acc 0.5000"), lines.get(0));
        assertFalse(lines.get(0).contains("test"), lines.get(0));
        assertTrue(lines.get(1).contains("test loss 1.2000  test acc 0.6000"), lines.get(1));
        assertFalse(lines.get(1).contains("val"), lines.get(1));
        // Resident memory unknown (NaN): not shown.
        assertFalse(out.toString().contains("rss"), out.toString());
    }

    @Test
    void aResumedHistoryContinuesFromTheCheckpointAndTheSummaryIsTheLastEpochs(@TempDir Path tmp)
            throws IOException {
        RunDirectory dir = RunDirectory.create(tmp.resolve("run"), CONFIG);
        PrintWriter out = new PrintWriter(new StringWriter(), true);
        TrainingHistory first = new TrainingHistory(CONFIG, dir, out);
        assertFalse(first.isResumed());
        assertEquals(1, first.firstEpoch());
        first.startEpoch();
        first.endEpoch(epoch(1, 0.5, Double.NaN));
        try (StopRequest stop = StopRequest.onSignal()) {
            first.checkpoint(TrainingHistoryTest::noModel, stop);
        }
        first.startEpoch();
        PartialEpoch inside = new PartialEpoch(2, 3, 96, 1.4, 0.45, 0.7);
        RunStoppedException stopped = first.stopInside(TrainingHistoryTest::noModel, inside, 13);
        assertEquals(
                "stopped in epoch 2 of 3 after batch 3; checkpoint in " + dir.partial(),
                stopped.getMessage());

        StringWriter printed = new StringWriter();
        TrainingHistory resumed =
                new TrainingHistory(
                        CONFIG, RunDirectory.resume(dir.out()), new PrintWriter(printed, true));
        assertTrue(resumed.isResumed());
        assertEquals(2, resumed.firstEpoch());
        assertEquals(13, resumed.stepsBefore());
        assertEquals(inside, resumed.doneOf(2));
        assertEquals(0, resumed.doneOf(3).batches());
        for (int e = 2; e <= 3; e++) {
            resumed.startEpoch();
            resumed.endEpoch(epoch(e, 0.5 + e / 10.0, Double.NaN));
        }
        RunSummary summary = resumed.finish(TrainingHistoryTest::noModel, "DL4J", 100);
        assertTrue(
                printed.toString()
                        .endsWith(
                                String.format(
                                        Locale.ROOT,
                                        "final test accuracy 0.8000, test loss 1.2000, %.0f s, 50"
                                                + " img/s%nresults in %s%n",
                                        summary.wallSeconds(),
                                        dir.out())),
                printed.toString());
        assertEquals(3, summary.epochs().size());
        assertEquals(0.8, summary.finalTestAccuracy(), TOLERANCE);
        assertEquals(30, summary.steps());
        // Three epochs of 100 images in 3 x 2.0 s of training.
        assertEquals(50, summary.samplesPerSecond(), TOLERANCE);
        assertEquals(summary, RunDirectory.readSummary(dir.out()).orElseThrow());
        assertTrue(Files.isRegularFile(dir.out().resolve(RunDirectory.MODEL).resolve("model.txt")));
    }
}
