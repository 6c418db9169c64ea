package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunSummary;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.statistics.distribution.TDistribution;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Writes an ablation's report from its {@link AblationResults}: {@code report.md} (the drop
 * probabilities chosen on the validation set; per arm the final test accuracy and loss and the
 * train-test gap; per claim the paired difference with its 95% confidence interval, p-value,
 * Holm-adjusted p-value and verdict), {@code report.png} (final test accuracy per arm with 95%
 * confidence intervals) and {@code overfitting.png} (training and test accuracy over the epochs for
 * no regularization, dropout and DropBlock).
 *
 * <p>Verdicts come from the Holm-adjusted p-values over every comparison of every claim, at {@value
 * #ALPHA}: a comparison is "supported" when the recipe is better with an adjusted p below it,
 * "contradicted" when it is worse, and "not shown" otherwise; "too few runs" where the comparison
 * has no p-value (fewer than two runs on a side, as in an interim report). A claim with several
 * comparisons is supported when all are, contradicted when any is.
 */
final class AblationReport {

    // The verdict of a comparison that has no p-value: fewer than two runs on a side.
    private static final String TOO_FEW_RUNS = "too few runs";

    /** The family-wise error rate of the verdicts. */
    static final double ALPHA = 0.05;

    private AblationReport() {}

    /**
     * One comparison of a claim, with its adjusted p-value and verdict.
     *
     * @param claim the claim
     * @param other the arm the recipe is compared with
     * @param test the comparison of final test accuracy, the claim's arm minus other
     * @param adjustedP the Holm-adjusted p-value
     * @param verdict supported, contradicted or not shown
     */
    record Verdict(
            AblationPlan.Claim claim,
            String other,
            PairedComparison test,
            double adjustedP,
            String verdict) {}

    /**
     * Tests every claim on the results.
     *
     * @param results the ablation's results
     * @return one verdict per comparison, in claim order; comparisons with an arm not in the
     *     ablation are left out
     */
    static List<Verdict> verdicts(AblationResults results) {
        List<AblationPlan.Claim> claims = new ArrayList<>();
        List<String> others = new ArrayList<>();
        List<PairedComparison> tests = new ArrayList<>();
        List<String> arms = results.settings().arms().stream().map(AblationPlan.Arm::name).toList();
        for (AblationPlan.Claim claim : results.settings().plan().claims()) {
            if (!arms.contains(claim.arm())) {
                continue;
            }
            double[] winner = results.values(claim.arm(), RunSummary::finalTestAccuracy);
            for (String other : claim.others()) {
                if (arms.contains(other)) {
                    claims.add(claim);
                    others.add(other);
                    tests.add(
                            PairedComparison.of(
                                    winner, results.values(other, RunSummary::finalTestAccuracy)));
                }
            }
        }
        double[] adjusted =
                HolmAdjustment.adjust(
                        tests.stream().mapToDouble(PairedComparison::pValue).toArray());
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < tests.size(); i++) {
            PairedComparison t = tests.get(i);
            String verdict;
            if (Double.isNaN(adjusted[i])) {
                verdict = TOO_FEW_RUNS;
            } else if (!(adjusted[i] < ALPHA)) {
                verdict = "not shown";
            } else {
                verdict = t.meanDifference() > 0 ? "supported" : "contradicted";
            }
            verdicts.add(new Verdict(claims.get(i), others.get(i), t, adjusted[i], verdict));
        }
        return verdicts;
    }

    /**
     * Combines the verdicts of a claim's comparisons.
     *
     * @param claim the claim
     * @param verdicts every verdict
     * @return supported when all its comparisons are, contradicted when any is, too few runs when
     *     any comparison has no p-value yet, not shown otherwise (and "not run" when it has none)
     */
    static String claimVerdict(AblationPlan.Claim claim, List<Verdict> verdicts) {
        List<String> words =
                verdicts.stream()
                        .filter(v -> v.claim().equals(claim))
                        .map(Verdict::verdict)
                        .toList();
        if (words.isEmpty()) {
            return "not run";
        }
        if (words.contains("contradicted")) {
            return "contradicted";
        }
        if (words.contains(TOO_FEW_RUNS)) {
            return TOO_FEW_RUNS;
        }
        return words.stream().allMatch("supported"::equals) ? "supported" : "not shown";
    }

    /**
     * Writes report.md, report.png and overfitting.png into the ablation's directory, each under a
     * temporary name first and renamed, so a crash or a second ablation writing at the same time
     * never leaves a half-written file.
     *
     * @param results the ablation's results
     * @throws IOException if a file cannot be written
     */
    static void write(AblationResults results) throws IOException {
        AblationSettings settings = results.settings();
        Path dir = settings.out();
        String unique = ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Path mdTmp = dir.resolve("report.md" + unique);
        Files.writeString(mdTmp, markdown(results), StandardCharsets.UTF_8);
        barChart(dir.resolve("report" + unique), results);
        overfittingChart(dir.resolve("overfitting" + unique), results);
        Files.move(
                dir.resolve("report" + unique + ".png"),
                dir.resolve("report.png"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.move(
                dir.resolve("overfitting" + unique + ".png"),
                dir.resolve("overfitting.png"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.move(mdTmp, dir.resolve("report.md"), StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Returns the text of report.md.
     *
     * @param results the ablation's results
     * @return the Markdown
     */
    static String markdown(AblationResults results) {
        AblationSettings settings = results.settings();
        StringBuilder md = new StringBuilder("# ").append(settings.plan().title()).append("\n\n");
        md.append("Reproduce with:\n\n```bash\n").append(settings.command()).append("\n```\n\n");
        md.append("Every run: ")
                .append(settings.sharedSettings())
                .append(
                        ". Seed s fixes the training subset, the"
                                + " validation split, the initial weights, the data order, the augmentation and the masks,"
                                + " so arms are paired by seed. Figures are the final epoch's; the test set is never used"
                                + " to choose anything.\n\n");
        md.append("## Drop probability, chosen on the validation set\n\n");
        md.append(
                String.format(
                        Locale.ROOT,
                        "Final validation accuracy, mean +- sd over seeds 1-%d; the chosen"
                                + " value is in bold. The arms of a regularizer all use the value"
                                + " its row chose.%n%n",
                        settings.selectionSeeds()));
        md.append("| regularizer |");
        for (float p : settings.dropProbs()) {
            md.append(" p = ").append(p).append(" |");
        }
        md.append(" chosen |\n|---|");
        md.append("---|".repeat(settings.dropProbs().length)).append("---|\n");
        for (String name : settings.selectors()) {
            AblationPlan.Arm arm = settings.plan().arm(name);
            md.append("| ").append(name).append(" |");
            var chosen = results.dropProb(arm);
            for (Map.Entry<Float, RunSummary[]> e : results.selection(name).entrySet()) {
                double[] acc =
                        Arrays.stream(e.getValue())
                                .filter(r -> r != null)
                                .mapToDouble(RunSummary::finalValidationAccuracy)
                                .toArray();
                String cell =
                        acc.length == 0
                                ? "-"
                                : meanSd(acc)
                                        + (acc.length < e.getValue().length
                                                ? " ("
                                                        + acc.length
                                                        + " of "
                                                        + e.getValue().length
                                                        + " runs)"
                                                : "");
                boolean isChosen = chosen.isPresent() && chosen.get().equals(e.getKey());
                md.append(' ').append(isChosen ? "**" + cell + "**" : cell).append(" |");
            }
            md.append(' ').append(chosen.map(String::valueOf).orElse("not yet")).append(" |\n");
        }
        md.append("\n## Final test accuracy per arm\n\n");
        md.append(
                "Full test set, after the last epoch; mean +- sd over seeds, the 95% confidence interval of the"
                        + " mean, the final train - test accuracy gap (training accuracy measured over the last"
                        + " epoch's batches) and the realised drop rate of the last epoch (the units the"
                        + " regularizer zeroed; - where not recorded).\n\n");
        md.append(
                "| arm | what | drop prob | seeds | test accuracy | 95% CI | test loss | train - test gap |"
                        + " realised drop rate | time (s) |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (AblationPlan.Arm arm : settings.arms()) {
            List<RunSummary> runs = results.finishedRuns(arm.name());
            double[] acc = runs.stream().mapToDouble(RunSummary::finalTestAccuracy).toArray();
            md.append("| ")
                    .append(arm.name())
                    .append(" | ")
                    .append(arm.description())
                    .append(" | ")
                    .append(
                            arm.regularizer() == Regularizer.NONE
                                    ? "-"
                                    : results.dropProb(arm).map(String::valueOf).orElse("not yet"))
                    .append(" | ")
                    .append(runs.size())
                    .append(" | ");
            if (runs.isEmpty()) {
                md.append("- | - | - | - | - | - |\n");
                continue;
            }
            double[] ci = confidenceInterval(acc);
            md.append(meanSd(acc))
                    .append(" | ")
                    .append(
                            Double.isNaN(ci[0])
                                    ? "-"
                                    : String.format(Locale.ROOT, "[%.4f, %.4f]", ci[0], ci[1]))
                    .append(" | ")
                    .append(meanSd(runs.stream().mapToDouble(RunSummary::finalTestLoss).toArray()))
                    .append(" | ")
                    .append(
                            meanSd(
                                    runs.stream()
                                            .mapToDouble(RunSummary::finalTrainTestGap)
                                            .toArray()))
                    .append(" | ")
                    .append(realisedDropRate(runs))
                    .append(" | ")
                    .append(
                            String.format(
                                    Locale.ROOT,
                                    "%.0f",
                                    runs.stream().mapToDouble(RunSummary::wallSeconds).sum()))
                    .append(" |\n");
        }
        List<Verdict> verdicts = verdicts(results);
        md.append("\n## The claims\n\n");
        md.append(
                String.format(
                        Locale.ROOT,
                        "Difference = the claim's arm (%s unless the claim names another) minus"
                                + " the other arm in final test accuracy,"
                                + " in points, paired by seed (paired t-test; Welch's test where seeds do not pair). p-values"
                                + " are Holm-adjusted over %s; a verdict needs an adjusted p below %.2f.%n%n",
                        settings.plan().recipe(),
                        holmFamily(verdicts),
                        ALPHA));
        md.append(
                "| claim | vs | pairs | difference (points) | 95% CI | p | Holm p | verdict |\n"
                        + "|---|---|---|---|---|---|---|---|\n");
        for (Verdict v : verdicts) {
            PairedComparison t = v.test();
            md.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %+.2f | [%+.2f, %+.2f] | %.4f | %.4f | %s |%n",
                            v.claim().claim(),
                            v.other(),
                            t.pairs(),
                            100 * t.meanDifference(),
                            100 * t.ciLow(),
                            100 * t.ciHigh(),
                            t.pValue(),
                            v.adjustedP(),
                            v.verdict()));
        }
        md.append('\n');
        for (AblationPlan.Claim claim : settings.plan().claims()) {
            md.append("- ")
                    .append(claim.claim())
                    .append(": **")
                    .append(claimVerdict(claim, verdicts))
                    .append("**\n");
        }
        return md.toString();
    }

    /**
     * Returns the 95% confidence interval of a mean, {@code mean +- t(0.975, n - 1) sd / sqrt(n)}.
     *
     * @param values the sample
     * @return {low, high}, NaN with fewer than two values
     */
    static double[] confidenceInterval(double[] values) {
        if (values.length < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double mean = PairedComparison.mean(values);
        double half =
                TDistribution.of(values.length - 1).inverseSurvivalProbability(0.025)
                        * Math.sqrt(PairedComparison.variance(values) / values.length);
        return new double[] {mean - half, mean + half};
    }

    // The comparisons Holm's adjustment counted: all of them, or in an interim report only those
    // that already have a p-value.
    private static String holmFamily(List<Verdict> verdicts) {
        long tested = verdicts.stream().filter(v -> !Double.isNaN(v.test().pValue())).count();
        return tested == verdicts.size()
                ? "all " + verdicts.size() + " comparisons"
                : "the "
                        + tested
                        + " of the "
                        + verdicts.size()
                        + " comparisons that have runs enough for a test so far (an interim"
                        + " report: the final adjustment counts all of them)";
    }

    // The mean realised drop rate of the runs' last epochs; "-" for runs trained before it was
    // recorded.
    private static String realisedDropRate(List<RunSummary> runs) {
        double[] rates =
                runs.stream()
                        .mapToDouble(r -> r.epochs().get(r.epochs().size() - 1).realisedDropRate())
                        .filter(v -> !Double.isNaN(v))
                        .toArray();
        return rates.length == 0
                ? "-"
                : String.format(Locale.ROOT, "%.4f", PairedComparison.mean(rates));
    }

    private static String meanSd(double[] values) {
        if (values.length < 2) {
            return String.format(Locale.ROOT, "%.4f", values[0]);
        }
        return String.format(
                Locale.ROOT,
                "%.4f +- %.4f",
                PairedComparison.mean(values),
                Math.sqrt(PairedComparison.variance(values)));
    }

    private static void barChart(Path base, AblationResults results) throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> means = new ArrayList<>();
        List<Double> errors = new ArrayList<>();
        for (AblationPlan.Arm arm : results.settings().arms()) {
            double[] acc =
                    results.finishedRuns(arm.name()).stream()
                            .mapToDouble(RunSummary::finalTestAccuracy)
                            .toArray();
            if (acc.length > 0) {
                double[] ci = confidenceInterval(acc);
                names.add(arm.name());
                means.add(PairedComparison.mean(acc));
                errors.add(Double.isNaN(ci[0]) ? 0 : ci[1] - PairedComparison.mean(acc));
            }
        }
        CategoryChart chart =
                new CategoryChartBuilder()
                        .width(1000)
                        .height(500)
                        .title("Final test accuracy per arm (mean and 95% CI over seeds)")
                        .yAxisTitle("test accuracy")
                        .build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(30);
        if (names.isEmpty()) {
            names.add("no finished runs");
            means.add(0.0);
            errors.add(0.0);
        }
        double min = 1;
        double max = 0;
        for (int i = 0; i < means.size(); i++) {
            min = Math.min(min, means.get(i) - errors.get(i));
            max = Math.max(max, means.get(i) + errors.get(i));
        }
        chart.getStyler().setYAxisMin(Math.max(0, min - 0.02));
        chart.getStyler().setYAxisMax(Math.min(1, max + 0.01));
        chart.addSeries("accuracy", names, means, errors);
        BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void overfittingChart(Path base, AblationResults results) throws IOException {
        XYChart chart =
                new XYChartBuilder()
                        .width(900)
                        .height(550)
                        .title(
                                "Training (solid), validation (dotted) and test (dashed, circles) accuracy, mean over seeds")
                        .xAxisTitle("epoch")
                        .yAxisTitle("accuracy")
                        .build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        List<String> shown = List.of("none", "dropout", results.settings().plan().recipe());
        Color[] colors = {new Color(200, 60, 40), new Color(40, 90, 200), new Color(30, 150, 60)};
        for (int k = 0; k < shown.size(); k++) {
            String name = shown.get(k);
            if (results.settings().arms().stream().noneMatch(a -> a.name().equals(name))) {
                continue;
            }
            List<RunSummary> runs = results.finishedRuns(name);
            if (runs.isEmpty()) {
                continue;
            }
            int epochs = runs.get(0).epochs().size();
            List<Double> x = new ArrayList<>();
            List<Double> train = new ArrayList<>();
            List<Double> testX = new ArrayList<>();
            List<Double> test = new ArrayList<>();
            List<Double> validation = new ArrayList<>();
            for (int e = 0; e < epochs; e++) {
                final int epoch = e;
                x.add((double) (e + 1));
                train.add(
                        runs.stream()
                                .mapToDouble(r -> r.epochs().get(epoch).trainAccuracy())
                                .average()
                                .orElse(Double.NaN));
                validation.add(
                        runs.stream()
                                .mapToDouble(r -> r.epochs().get(epoch).validationAccuracy())
                                .average()
                                .orElse(Double.NaN));
                double t =
                        runs.stream()
                                .mapToDouble(r -> r.epochs().get(epoch).testAccuracy())
                                .average()
                                .orElse(Double.NaN);
                if (!Double.isNaN(t)) {
                    testX.add((double) (e + 1));
                    test.add(t);
                }
            }
            XYSeries trainSeries = chart.addSeries(name + " train", x, train);
            trainSeries.setMarker(SeriesMarkers.NONE);
            trainSeries.setLineColor(colors[k]);
            if (validation.stream().noneMatch(v -> Double.isNaN(v))) {
                XYSeries validationSeries = chart.addSeries(name + " validation", x, validation);
                validationSeries.setMarker(SeriesMarkers.NONE);
                validationSeries.setLineColor(colors[k]);
                validationSeries.setLineStyle(
                        new BasicStroke(
                                1.5f,
                                BasicStroke.CAP_BUTT,
                                BasicStroke.JOIN_MITER,
                                10f,
                                new float[] {2f, 3f},
                                0f));
            }
            XYSeries testSeries = chart.addSeries(name + " test", testX, test);
            testSeries.setMarker(SeriesMarkers.CIRCLE);
            testSeries.setLineStyle(
                    new BasicStroke(
                            2f,
                            BasicStroke.CAP_BUTT,
                            BasicStroke.JOIN_MITER,
                            10f,
                            new float[] {6f, 4f},
                            0f));
            testSeries.setLineColor(colors[k]);
            testSeries.setMarkerColor(colors[k]);
        }
        if (chart.getSeriesMap().isEmpty()) {
            chart.addSeries("no finished runs", new double[] {0}, new double[] {0});
        }
        BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
