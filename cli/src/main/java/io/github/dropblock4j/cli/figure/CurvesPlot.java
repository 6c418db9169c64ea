package io.github.dropblock4j.cli.figure;

import io.github.dropblock4j.cli.run.EpochMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a run's {@code curves.png}: loss and accuracy per epoch, side by side, and where the run
 * measured it, the realised drop rate against the requested drop probability.
 */
public final class CurvesPlot {

    private CurvesPlot() {}

    /**
     * Draws the curves of a run.
     *
     * @param epochs the run's epochs
     * @param title what ran, e.g. "resnet20, dropblock"
     * @param png the file to write, ending in {@code .png}
     * @throws IOException if the file cannot be written
     */
    public static void write(List<EpochMetrics> epochs, String title, Path png) throws IOException {
        double[] x = epochs.stream().mapToDouble(EpochMetrics::epoch).toArray();
        XYChart loss =
                new XYChartBuilder()
                        .width(600)
                        .height(400)
                        .title("Loss: " + title)
                        .xAxisTitle("epoch")
                        .yAxisTitle("cross-entropy")
                        .build();
        loss.addSeries("train", x, epochs.stream().mapToDouble(EpochMetrics::trainLoss).toArray())
                .setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries("test", x, epochs.stream().mapToDouble(EpochMetrics::testLoss).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        XYChart accuracy =
                new XYChartBuilder()
                        .width(600)
                        .height(400)
                        .title("Accuracy")
                        .xAxisTitle("epoch")
                        .yAxisTitle("accuracy")
                        .build();
        // A column a command does not measure (all NaN) gets no series.
        double[] trainAccuracy = epochs.stream().mapToDouble(EpochMetrics::trainAccuracy).toArray();
        if (Arrays.stream(trainAccuracy).anyMatch(Double::isFinite)) {
            accuracy.addSeries("train", x, trainAccuracy).setMarker(SeriesMarkers.CIRCLE);
        }
        double[] trainEval = epochs.stream().mapToDouble(EpochMetrics::trainEvalAccuracy).toArray();
        if (Arrays.stream(trainEval).anyMatch(Double::isFinite)) {
            accuracy.addSeries("train, evaluation mode", x, trainEval)
                    .setMarker(SeriesMarkers.SQUARE);
        }
        accuracy.addSeries(
                        "test",
                        x,
                        epochs.stream().mapToDouble(EpochMetrics::testAccuracy).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        List<XYChart> charts = new ArrayList<>(List.of(loss, accuracy));
        double[] realised = epochs.stream().mapToDouble(EpochMetrics::realisedDropRate).toArray();
        if (Arrays.stream(realised).anyMatch(Double::isFinite)) {
            XYChart drop =
                    new XYChartBuilder()
                            .width(600)
                            .height(400)
                            .title("Drop rate")
                            .xAxisTitle("epoch")
                            .yAxisTitle("fraction of units")
                            .build();
            drop.addSeries(
                            "requested (last step)",
                            x,
                            epochs.stream().mapToDouble(EpochMetrics::dropProb).toArray())
                    .setMarker(SeriesMarkers.CIRCLE);
            drop.addSeries("realised (epoch mean)", x, realised).setMarker(SeriesMarkers.DIAMOND);
            charts.add(drop);
        }
        String name = png.toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), base, BitmapEncoder.BitmapFormat.PNG);
    }
}
