package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DropBlockGammaTest {

    // Bisection stops at double resolution; the solved fraction is exact to rounding.
    private static final double SOLVED = 1e-12;

    @ParameterizedTest
    @CsvSource({"7, 7, 0.1", "14, 3, 0.05", "28, 5, 0.2", "56, 7, 0.1", "3, 7, 0.5", "9, 1, 0.3"})
    void calibratedGammaGivesExactlyTheRequestedExpectedDropFraction(
            int size, int block, double p) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double gamma = DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED);
        assertEquals(p, g.expectedDropFraction(gamma), SOLVED);
    }

    @Test
    void blockSizeOneGivesGammaEqualToDropProb() {
        BlockGeometry g = BlockGeometry.of(new int[] {14, 14}, new int[] {1});
        assertEquals(0.1, DropBlockGamma.gamma(g, 0.1, GammaMode.CALIBRATED), SOLVED);
        assertEquals(0.1, DropBlockGamma.gamma(g, 0.1, GammaMode.PAPER), SOLVED);
    }

    @Test
    void paperGammaIsEquationOneWithClippedBlock() {
        // p / b^2 * s^2 / (s - b + 1)^2 with s = 14, b = 7.
        BlockGeometry g = BlockGeometry.of(new int[] {14, 14}, new int[] {7});
        assertEquals(0.1 / 49 * 196 / 64, DropBlockGamma.gamma(g, 0.1, GammaMode.PAPER), SOLVED);
        // A 9-block on a 5x5 map is a 5-block: p / 25 * 25 / 1 = p.
        BlockGeometry clipped = BlockGeometry.of(new int[] {5, 5}, new int[] {9});
        assertEquals(0.1, DropBlockGamma.gamma(clipped, 0.1, GammaMode.PAPER), SOLVED);
    }

    @Test
    void paperGammaUnderDropsWhereBlocksOverlap() {
        BlockGeometry g = BlockGeometry.of(new int[] {14, 14}, new int[] {7});
        double realised = g.expectedDropFraction(DropBlockGamma.gamma(g, 0.1, GammaMode.PAPER));
        assertTrue(realised < 0.1 && realised > 0.09, "realised " + realised);
    }

    @Test
    void zeroDropProbGivesZeroGamma() {
        BlockGeometry g = BlockGeometry.of(new int[] {7}, new int[] {3});
        assertEquals(0.0, DropBlockGamma.gamma(g, 0.0, GammaMode.CALIBRATED));
    }

    @Test
    void gammaIsCachedAndStable() {
        BlockGeometry g = BlockGeometry.of(new int[] {28, 28}, new int[] {5});
        double first = DropBlockGamma.gamma(g, 0.15, GammaMode.CALIBRATED);
        BlockGeometry same = BlockGeometry.of(new int[] {28, 28}, new int[] {5, 5});
        assertEquals(first, DropBlockGamma.gamma(same, 0.15, GammaMode.CALIBRATED));
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.5, -0.1, 1.0, Double.NaN, Double.POSITIVE_INFINITY})
    void dropProbOutsideUnitIntervalIsRejectedWithItsValue(double p) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> DropBlockGamma.checkDropProb(p));
        assertEquals("dropProb must be in [0, 1), got " + p, e.getMessage());
    }
}
