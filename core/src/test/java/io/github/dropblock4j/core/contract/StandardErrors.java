package io.github.dropblock4j.core.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

/**
 * Test support: the tolerance check of the statistical tests. A tolerance is trusted only if it
 * spans at least {@link #MIN_STANDARD_ERRORS} standard errors of the mean of the draws; otherwise
 * the test had too few draws to say anything, and fails saying so.
 */
public final class StandardErrors {

    /** A tolerance must span at least this many standard errors, or there were too few draws. */
    public static final double MIN_STANDARD_ERRORS = 3.0;

    private StandardErrors() {}

    /**
     * Asserts that the mean of {@code draws} is within {@code tolerance} of {@code target}, after
     * asserting that the tolerance spans {@link #MIN_STANDARD_ERRORS} standard errors of that mean
     * (the sample standard deviation of the draws over the square root of their number).
     *
     * @param draws independent draws of a statistic, at least 2
     * @param target the statistic's expectation
     * @param tolerance how far the mean may be from the target
     */
    public static void assertMeanWithin(double[] draws, double target, double tolerance) {
        double mean = Arrays.stream(draws).average().orElseThrow();
        double var =
                Arrays.stream(draws).map(v -> (v - mean) * (v - mean)).sum() / (draws.length - 1);
        double standardError = Math.sqrt(var / draws.length);
        assertTrue(
                tolerance >= MIN_STANDARD_ERRORS * standardError,
                "too few draws: tolerance "
                        + tolerance
                        + " < "
                        + MIN_STANDARD_ERRORS
                        + " SE = "
                        + MIN_STANDARD_ERRORS * standardError);
        assertEquals(target, mean, tolerance);
    }
}
