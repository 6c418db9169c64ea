package io.github.dropblock4j.cli.ablate;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Holm's step-down adjustment of p-values for multiple comparisons (Holm 1979): with the {@code m}
 * p-values sorted ascending, {@code p(1) <= ... <= p(m)}, the adjusted value of {@code p(i)} is
 * {@code max over j <= i of min(1, (m - j + 1) p(j))}. Rejecting where the adjusted value is below
 * alpha keeps the family-wise error rate at alpha, with no assumption about how the tests depend on
 * each other. NaN p-values (comparisons that could not be made) are not counted in {@code m} and
 * stay NaN.
 */
final class HolmAdjustment {

    private HolmAdjustment() {}

    /**
     * Adjusts p-values.
     *
     * @param pValues the raw p-values, each in [0, 1] or NaN
     * @return the adjusted p-values, in the same order
     * @throws IllegalArgumentException if a p-value lies outside [0, 1]
     */
    static double[] adjust(double[] pValues) {
        for (double p : pValues) {
            if (p < 0 || p > 1) {
                throw new IllegalArgumentException("p-values must lie in [0, 1], got " + p);
            }
        }
        Integer[] order =
                IntStream.range(0, pValues.length)
                        .filter(i -> !Double.isNaN(pValues[i]))
                        .boxed()
                        .sorted(Comparator.comparingDouble(i -> pValues[i]))
                        .toArray(Integer[]::new);
        double[] adjusted = new double[pValues.length];
        Arrays.fill(adjusted, Double.NaN);
        int m = order.length;
        double running = 0;
        for (int j = 0; j < m; j++) {
            running = Math.max(running, Math.min(1, (m - j) * pValues[order[j]]));
            adjusted[order[j]] = running;
        }
        return adjusted;
    }
}
