package io.github.dropblock4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Writes an ablation's {@code report.md} (mean and standard deviation of the test accuracy per
 * configuration, and which of the paper's claims the data supports) and {@code report.png} (a bar
 * chart with one standard deviation as error bars).
 *
 * <p>A claim is "supported" when the recipe's mean accuracy exceeds every other variant's by more
 * than two standard errors of the difference, "contradicted" when another variant's exceeds it by
 * that much, and "inconclusive" otherwise, including with a single seed.
 */
final class AblationReport {

    /**
     * The test accuracies of one variant over its seeds.
     *
     * @param variant the configuration
     * @param finalAccuracies the final test accuracy of each seed
     * @param bestAccuracies the best test accuracy of each seed
     * @param wallSeconds the total time of its runs
     */
    record Row(AblationPlan.Variant variant, double[] finalAccuracies, double[] bestAccuracies, double wallSeconds) {

        double mean() {
            return AblationReport.mean(finalAccuracies);
        }

        double std() {
            return AblationReport.std(finalAccuracies);
        }
    }

    private AblationReport() {}

    static void write(Path dir, String command, TrainConfig base, List<Row> rows) throws IOException {
        Map<String, Row> byName = new LinkedHashMap<>();
        rows.forEach(r -> byName.put(r.variant().name(), r));
        StringBuilder md = new StringBuilder();
        md.append("# DropBlock ablation\n\n");
        md.append("Reproduce with:\n\n```bash\n").append(command).append("\n```\n\n");
        md.append(String.format(Locale.ROOT, "Base: %s. Accuracy is the final test accuracy; mean +- standard"
                + " deviation over seeds.%n%n", base));
        md.append("| variant | what | seeds | test accuracy | best-epoch accuracy | wall time (s) |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.4f +- %.4f | %.4f | %.0f |%n",
                    r.variant().name(), r.variant().description(), r.finalAccuracies().length, r.mean(), r.std(),
                    mean(r.bestAccuracies()), r.wallSeconds()));
        }
        md.append("\n## The paper's claims on this data\n\n");
        md.append("A claim is supported when the recipe's mean beats each alternative by more than two standard"
                + " errors of the difference, contradicted when an alternative beats it by that much, and"
                + " inconclusive otherwise.\n\n");
        for (AblationPlan.Claim claim : AblationPlan.CLAIMS) {
            md.append("- ").append(claim.claim()).append(": ").append(verdict(claim, byName)).append('\n');
        }
        // Written under temporary names and renamed, so a crash leaves no half-written report.
        // Unique temporary names: two ablations may share an output directory.
        String unique = ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Path mdTmp = dir.resolve("report.md" + unique);
        Files.writeString(mdTmp, md, StandardCharsets.UTF_8);
        chart(dir.resolve("report" + unique), rows);
        Files.move(dir.resolve("report" + unique + ".png"), dir.resolve("report.png"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.move(mdTmp, dir.resolve("report.md"), StandardCopyOption.REPLACE_EXISTING);
    }

    static String verdict(AblationPlan.Claim claim, Map<String, Row> byName) {
        Row better = byName.get(claim.better());
        if (better == null) {
            return "not run";
        }
        List<String> details = new ArrayList<>();
        boolean allAbove = true;
        boolean anyBelow = false;
        for (String other : claim.others()) {
            Row o = byName.get(other);
            if (o == null) {
                return "not run";
            }
            double diff = better.mean() - o.mean();
            int na = better.finalAccuracies().length;
            int nb = o.finalAccuracies().length;
            double se = Math.sqrt(sq(better.std()) / na + sq(o.std()) / nb);
            if (na < 2 || nb < 2) {
                se = Double.NaN;
            }
            details.add(String.format(Locale.ROOT, "%s %+.4f vs %s (2 SE %.4f)", claim.better(), diff, other, 2 * se));
            allAbove &= diff > 2 * se;
            anyBelow |= diff < -2 * se;
        }
        String word = allAbove ? "**supported**" : anyBelow ? "**contradicted**" : "**inconclusive**";
        return word + " (" + String.join("; ", details) + ")";
    }

    private static void chart(Path base, List<Row> rows) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(500)
                .title("Test accuracy per configuration (mean +- std over seeds)").yAxisTitle("test accuracy").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(30);
        double min = rows.stream().mapToDouble(r -> r.mean() - r.std()).min().orElse(0);
        double max = rows.stream().mapToDouble(r -> r.mean() + r.std()).max().orElse(1);
        chart.getStyler().setYAxisMin(Math.max(0, min - 0.02));
        chart.getStyler().setYAxisMax(Math.min(1, max + 0.01));
        chart.addSeries("accuracy",
                rows.stream().map(r -> r.variant().name()).toList(),
                rows.stream().map(Row::mean).toList(),
                rows.stream().map(Row::std).toList());
        BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    static double std(double[] values) {
        if (values.length < 2) {
            return 0;
        }
        double m = mean(values);
        double sum = 0;
        for (double v : values) {
            sum += sq(v - m);
        }
        return Math.sqrt(sum / (values.length - 1));
    }

    private static double sq(double v) {
        return v * v;
    }
}
