package io.github.dropblock4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws {@code curves.png}: loss and accuracy per epoch, side by side. */
final class CurvesPlot {

    private CurvesPlot() {}

    static void write(List<EpochMetrics> epochs, String title, Path png) throws IOException {
        double[] x = epochs.stream().mapToDouble(EpochMetrics::epoch).toArray();
        XYChart loss = new XYChartBuilder().width(600).height(400).title("Loss: " + title)
                .xAxisTitle("epoch").yAxisTitle("cross-entropy").build();
        loss.addSeries("train", x, epochs.stream().mapToDouble(EpochMetrics::trainLoss).toArray())
                .setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries("test", x, epochs.stream().mapToDouble(EpochMetrics::testLoss).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        XYChart accuracy = new XYChartBuilder().width(600).height(400).title("Accuracy")
                .xAxisTitle("epoch").yAxisTitle("accuracy").build();
        accuracy.addSeries("train", x, epochs.stream().mapToDouble(EpochMetrics::trainAccuracy).toArray())
                .setMarker(SeriesMarkers.CIRCLE);
        accuracy.addSeries("test", x, epochs.stream().mapToDouble(EpochMetrics::testAccuracy).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        String name = png.toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(List.of(loss, accuracy), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
    }
}
