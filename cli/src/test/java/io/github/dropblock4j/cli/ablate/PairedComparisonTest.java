package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PairedComparisonTest {

    // The reference values are computed by hand, not by the library under test, so this is a
    // check of how the library is called; 1e-9 leaves room for rounding in the last digits only.
    private static final double TOLERANCE = 1e-9;

    @Test
    void pairedTestMatchesHandComputedValues() {
        double[] a = {0.80, 0.82, 0.79, 0.85, 0.81};
        double[] b = {0.78, 0.80, 0.80, 0.82, 0.79};
        PairedComparison c = PairedComparison.of(a, b);
        // d = {0.02, 0.02, -0.01, 0.03, 0.02}: mean 0.016, sd sqrt(9.2e-4 / 4) = 0.0151657509,
        // t = 0.016 / (sd / sqrt 5) = 2.3590712985 on 4 degrees of freedom. With 4 degrees of
        // freedom the t CDF has the closed form F(t) = 1/2 + 3/8 x (1 - t^2 / (12 (1 + t^2/4))),
        // x = t / sqrt(1 + t^2 / 4), so p = 2 (1 - F(t)) = 0.0777416409. t(0.975, 4) =
        // 2.7764451052.
        assertEquals(5, c.pairs());
        assertEquals(0.016, c.meanDifference(), TOLERANCE);
        assertEquals(0.0777416409479, c.pValue(), 1e-8);
        assertEquals(-0.0028307668835, c.ciLow(), 1e-8);
        assertEquals(0.0348307668835, c.ciHigh(), 1e-8);
    }

    @Test
    void seedsMissingOnEitherSideAreLeftOutOfThePairs() {
        double[] a = {0.80, 0.82, 0.79, 0.85, 0.81, 0.90};
        double[] b = {0.78, 0.80, 0.80, 0.82, 0.79, Double.NaN};
        PairedComparison c = PairedComparison.of(a, b);
        assertEquals(5, c.pairs());
        assertEquals(0.0777416409479, c.pValue(), 1e-8);
    }

    @Test
    void welchTestWhenSeedsDoNotPair() {
        double[] a = {1, 2, 3, 4, Double.NaN, Double.NaN, Double.NaN};
        double[] b = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, 2, 4, 6};
        PairedComparison c = PairedComparison.of(a, b);
        // Means 2.5 and 4; variances 5/3 and 4; Welch-Satterthwaite degrees of freedom
        // (5/12 + 4/3)^2 / ((5/12)^2 / 3 + (4/3)^2 / 2) = 3.2347188264, t = -1.1338934190; the
        // two-sided p-value 0.3338237 was integrated numerically from the t density.
        assertEquals(0, c.pairs());
        assertEquals(-1.5, c.meanDifference(), TOLERANCE);
        assertEquals(0.3338237, c.pValue(), 1e-6);
        assertEquals(c.meanDifference(), (c.ciLow() + c.ciHigh()) / 2, TOLERANCE);
        assertTrue(c.ciLow() < -1.5 - 1.3 && c.ciHigh() > 0, c.toString());
    }

    @Test
    void fewerThanTwoResultsGiveNoTest() {
        PairedComparison c =
                PairedComparison.of(new double[] {0.8, Double.NaN}, new double[] {0.7, 0.75});
        assertEquals(0.8 - 0.725, c.meanDifference(), TOLERANCE);
        assertTrue(Double.isNaN(c.pValue()));
        assertTrue(Double.isNaN(c.ciLow()));
    }

    @Test
    void swappingTheArmsNegatesTheDifferenceAndKeepsP() {
        double[] a = {0.80, 0.82, 0.79, 0.85, 0.81};
        double[] b = {0.78, 0.80, 0.80, 0.82, 0.79};
        PairedComparison ab = PairedComparison.of(a, b);
        PairedComparison ba = PairedComparison.of(b, a);
        assertEquals(-ab.meanDifference(), ba.meanDifference(), TOLERANCE);
        assertEquals(ab.pValue(), ba.pValue(), TOLERANCE);
        assertEquals(-ab.ciHigh(), ba.ciLow(), TOLERANCE);
    }

    @Test
    void armsOfDifferentLengthsAreRejected() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PairedComparison.of(new double[3], new double[2]));
        assertEquals(
                "first and second must have one entry per seed, got 3 and 2 entries",
                e.getMessage());
    }
}
