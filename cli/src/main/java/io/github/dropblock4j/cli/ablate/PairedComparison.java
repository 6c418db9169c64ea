package io.github.dropblock4j.cli.ablate;

import java.util.Arrays;
import org.apache.commons.statistics.distribution.TDistribution;
import org.apache.commons.statistics.inference.TTest;

/**
 * The comparison of two arms' results: the mean difference, its 95% confidence interval and the
 * two-sided p-value of a t-test, computed with Apache Commons Statistics.
 *
 * <p>Runs with the same seed share their data subsets, initial weights and data order, so with at
 * least two seeds in common the test is the paired t-test on the per-seed differences {@code d},
 * {@code t = mean(d) / (sd(d) / sqrt(n))} with {@code n - 1} degrees of freedom, and the interval
 * is {@code mean(d) +- t(0.975, n - 1) sd(d) / sqrt(n)}. Without such pairs it is Welch's
 * unequal-variance t-test, the interval with Welch-Satterthwaite's degrees of freedom. With fewer
 * than two results on a side, nothing can be said: every figure but the difference is NaN.
 *
 * @param pairs the number of seed pairs; 0 when the Welch test was used
 * @param n1 the number of results of the first arm used
 * @param n2 the number of results of the second arm used
 * @param meanDifference mean of the first arm minus mean of the second
 * @param ciLow lower end of the 95% confidence interval of the difference
 * @param ciHigh upper end of the 95% confidence interval of the difference
 * @param pValue the two-sided p-value for "no difference"
 */
record PairedComparison(
        int pairs,
        int n1,
        int n2,
        double meanDifference,
        double ciLow,
        double ciHigh,
        double pValue) {

    private static final double CONFIDENCE = 0.95;

    /**
     * Compares two arms paired by index (index i of both is seed i).
     *
     * @param first the first arm's results, NaN where a seed has no result
     * @param second the second arm's results, NaN where a seed has no result
     * @return the comparison of first minus second
     * @throws IllegalArgumentException if the arrays differ in length
     */
    static PairedComparison of(double[] first, double[] second) {
        if (first.length != second.length) {
            throw new IllegalArgumentException(
                    "first and second must have one entry per seed, got "
                            + first.length
                            + " and "
                            + second.length
                            + " entries");
        }
        int common = 0;
        for (int i = 0; i < first.length; i++) {
            if (!Double.isNaN(first[i]) && !Double.isNaN(second[i])) {
                common++;
            }
        }
        double[] a = present(first);
        double[] b = present(second);
        if (common >= 2) {
            double[] d = new double[common];
            double[] pa = new double[common];
            double[] pb = new double[common];
            int k = 0;
            for (int i = 0; i < first.length; i++) {
                if (!Double.isNaN(first[i]) && !Double.isNaN(second[i])) {
                    pa[k] = first[i];
                    pb[k] = second[i];
                    d[k] = first[i] - second[i];
                    k++;
                }
            }
            double mean = mean(d);
            double half = quantile(common - 1) * Math.sqrt(variance(d) / common);
            double p = TTest.withDefaults().pairedTest(pa, pb).getPValue();
            return new PairedComparison(common, common, common, mean, mean - half, mean + half, p);
        }
        double mean = a.length == 0 || b.length == 0 ? Double.NaN : mean(a) - mean(b);
        if (a.length < 2 || b.length < 2) {
            return new PairedComparison(
                    0, a.length, b.length, mean, Double.NaN, Double.NaN, Double.NaN);
        }
        double va = variance(a) / a.length;
        double vb = variance(b) / b.length;
        double df = (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
        double half = quantile(df) * Math.sqrt(va + vb);
        double p = TTest.withDefaults().test(a, b).getPValue();
        return new PairedComparison(0, a.length, b.length, mean, mean - half, mean + half, p);
    }

    private static double quantile(double degreesOfFreedom) {
        return TDistribution.of(degreesOfFreedom).inverseSurvivalProbability((1 - CONFIDENCE) / 2);
    }

    private static double[] present(double[] values) {
        return Arrays.stream(values).filter(v -> !Double.isNaN(v)).toArray();
    }

    static double mean(double[] values) {
        return Arrays.stream(values).sum() / values.length;
    }

    static double variance(double[] values) {
        double m = mean(values);
        double sum = 0;
        for (double v : values) {
            sum += (v - m) * (v - m);
        }
        return sum / (values.length - 1);
    }
}
