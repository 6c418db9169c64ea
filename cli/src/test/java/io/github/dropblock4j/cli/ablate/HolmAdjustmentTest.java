package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HolmAdjustmentTest {

    // Products of small decimals: only floating-point rounding separates them from the exact
    // values.
    private static final double TOLERANCE = 1e-12;

    @Test
    void adjustsAsComputedByHand() {
        // Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04, raised to
        // the
        // running maximum 0.06. Back in the original order:
        double[] adjusted = HolmAdjustment.adjust(new double[] {0.01, 0.04, 0.03, 0.005});
        assertArrayEquals(new double[] {0.03, 0.06, 0.06, 0.02}, adjusted, TOLERANCE);
    }

    @Test
    void adjustedValuesAreCappedAtOne() {
        assertArrayEquals(
                new double[] {1, 1}, HolmAdjustment.adjust(new double[] {0.6, 0.9}), TOLERANCE);
    }

    @Test
    void nanValuesAreNotCountedAndStayNan() {
        double[] adjusted = HolmAdjustment.adjust(new double[] {0.02, Double.NaN, 0.04});
        assertEquals(0.04, adjusted[0], TOLERANCE);
        assertTrue(Double.isNaN(adjusted[1]));
        assertEquals(0.04, adjusted[2], TOLERANCE);
    }

    @Test
    void orderOfTheInputDoesNotChangeTheAdjustment() {
        double[] forward = HolmAdjustment.adjust(new double[] {0.001, 0.2, 0.03});
        double[] backward = HolmAdjustment.adjust(new double[] {0.03, 0.2, 0.001});
        assertEquals(forward[0], backward[2], TOLERANCE);
        assertEquals(forward[1], backward[1], TOLERANCE);
        assertEquals(forward[2], backward[0], TOLERANCE);
    }

    @Test
    void pValuesOutsideTheUnitIntervalAreRejected() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> HolmAdjustment.adjust(new double[] {0.5, 1.5}));
        assertEquals("p-values must lie in [0, 1], got 1.5", e.getMessage());
    }
}
