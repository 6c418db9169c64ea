package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DropCountTest {

    @Test
    void rateIsDroppedOverUnitsAndCountsAdd() {
        DropCount a = new DropCount(100, 10);
        DropCount b = new DropCount(300, 90);
        assertEquals(0.1, a.rate());
        // Pooled over units, not the mean of the two rates (0.2).
        assertEquals(0.25, a.plus(b).rate());
        assertEquals(a, DropCount.NONE.plus(a));
        assertTrue(Double.isNaN(DropCount.NONE.rate()));
    }

    @Test
    void impossibleCountsAreRejectedWithTheirValues() {
        assertEquals(
                "dropped must be in [0, units], got dropped = 11, units = 10",
                assertThrows(IllegalArgumentException.class, () -> new DropCount(10, 11))
                        .getMessage());
        assertEquals(
                "dropped must be in [0, units], got dropped = 0, units = -1",
                assertThrows(IllegalArgumentException.class, () -> new DropCount(-1, 0))
                        .getMessage());
    }
}
