package io.github.dropblock4j.cli.figure;

import io.github.dropblock4j.cli.run.EpochMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws a run's {@code curves.png}: loss and accuracy per epoch, side by side. */
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
        accuracy.addSeries(
                        "train",
                        x,
                        epochs.stream().mapToDouble(EpochMetrics::trainAccuracy).toArray())
                .setMarker(SeriesMarkers.CIRCLE);
        accuracy.addSeries(
                        "test",
                        x,
                        epochs.stream().mapToDouble(EpochMetrics::testAccuracy).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        String name = png.toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(
                List.of(loss, accuracy), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
    }
}
