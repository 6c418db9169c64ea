package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BlockGeometryTest {

    private static final double EXACT = 1e-12;

    @Test
    void blockLargerThanMapIsClippedPerDimension() {
        BlockGeometry g = BlockGeometry.of(new int[] {3, 10}, new int[] {7});
        assertEquals(3, g.block(0));
        assertEquals(7, g.block(1));
        assertEquals(1, g.validExtent(0));
        assertEquals(4, g.validExtent(1));
        assertEquals(21, g.blockArea());
        assertEquals(4, g.validCount());
    }

    @Test
    void heightAndWidthKeepTheirOwnBlockSizes() {
        BlockGeometry g = BlockGeometry.of(new int[] {6, 9}, new int[] {2, 5});
        assertEquals(2, g.block(0));
        assertEquals(5, g.block(1));
        assertEquals(5, g.validExtent(0));
        assertEquals(5, g.validExtent(1));
    }

    @ParameterizedTest
    @CsvSource({"7, 3", "7, 4", "14, 7", "5, 5", "9, 1", "4, 9"})
    void coverageCountsTheValidSeedsThatCoverEachPosition(int size, int block) {
        BlockGeometry g = BlockGeometry.of(new int[] {size}, new int[] {block});
        int b = Math.min(size, block);
        for (int x = 0; x < size; x++) {
            int count = 0;
            for (int s = 0; s <= size - b; s++) {
                if (s <= x && x < s + b) {
                    count++;
                }
            }
            assertEquals(count, g.coverage(0, x), "x = " + x);
        }
    }

    @Test
    void histogramCoversEveryPositionOnceAndMatchesBruteForce() {
        BlockGeometry g = BlockGeometry.of(new int[] {5, 8, 3}, new int[] {2, 3, 4});
        Map<Long, Long> histogram = g.coverageHistogram();
        long positions = histogram.values().stream().mapToLong(Long::longValue).sum();
        assertEquals(g.area(), positions);
        double gamma = 0.03;
        double brute = 0;
        for (int z = 0; z < 5; z++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 3; x++) {
                    long k = (long) g.coverage(0, z) * g.coverage(1, y) * g.coverage(2, x);
                    brute += 1 - Math.pow(1 - gamma, k);
                }
            }
        }
        assertEquals(brute / g.area(), g.expectedDropFraction(gamma), EXACT);
    }

    @Test
    void expectedDropFractionRunsFromZeroToOne() {
        BlockGeometry g = BlockGeometry.of(new int[] {14, 14}, new int[] {7});
        assertEquals(0.0, g.expectedDropFraction(0.0), EXACT);
        assertEquals(1.0, g.expectedDropFraction(1.0), EXACT);
        assertTrue(g.expectedDropFraction(0.01) < g.expectedDropFraction(0.02));
    }

    @Test
    void valueSemantics() {
        BlockGeometry a = BlockGeometry.of(new int[] {7, 7}, new int[] {9});
        BlockGeometry b = BlockGeometry.of(new int[] {7, 7}, new int[] {7, 7});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals("BlockGeometry{size=[7, 7], block=[7, 7]}", a.toString());
    }

    @Test
    void badArgumentsNameTheValue() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BlockGeometry.of(new int[] {7}, new int[] {0}));
        assertEquals("blockSize must be >= 1, got [0]", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BlockGeometry.of(new int[] {7, 7}, new int[] {3, 3, 3}));
        assertEquals(
                "blockSize must have 1 entry or one per spatial dimension (2), got [3, 3, 3]",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BlockGeometry.of(new int[] {7, 0}, new int[] {3}));
        assertEquals("spatialSize must be >= 1 in every dimension, got [7, 0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BlockGeometry.checkBlockSize());
        assertEquals("blockSize must have at least one entry, got []", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        // 0.25 of the map: the paper's 7 on 28, then rounded half up, never below 1.
        "28, 0.25, 7",
        "14, 0.25, 4",
        "7, 0.25, 2",
        "4, 0.25, 1",
        "1, 0.25, 1",
        "14, 0.01, 1",
        "7, 1.0, 7",
        "14, 0.36, 5",
        "7, 0.43, 3"
    })
    void aFractionOfTheMapIsRoundedAndAtLeastOne(int size, double fraction, int block) {
        BlockGeometry g = BlockGeometry.ofFraction(new int[] {size}, new double[] {fraction});
        assertEquals(block, g.block(0));
        assertEquals(BlockGeometry.of(new int[] {size}, new int[] {block}), g);
    }

    @Test
    void aFractionPerDimensionAppliesToEachDimension() {
        BlockGeometry g = BlockGeometry.ofFraction(new int[] {28, 10}, new double[] {0.25, 0.5});
        assertEquals(7, g.block(0));
        assertEquals(5, g.block(1));
        BlockGeometry one = BlockGeometry.ofFraction(new int[] {28, 10}, new double[] {0.5});
        assertEquals(14, one.block(0));
        assertEquals(5, one.block(1));
    }

    @Test
    void badFractionsAreRejectedWithTheirValues() {
        assertEquals(
                "blockFraction must be in (0, 1], got [0.0]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockGeometry.checkBlockFraction(0.0))
                        .getMessage());
        assertEquals(
                "blockFraction must be in (0, 1], got [0.5, 1.5]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockGeometry.checkBlockFraction(0.5, 1.5))
                        .getMessage());
        assertEquals(
                "blockFraction must be in (0, 1], got [NaN]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockGeometry.checkBlockFraction(Double.NaN))
                        .getMessage());
        assertEquals(
                "blockFraction must have at least one entry, got []",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockGeometry.checkBlockFraction())
                        .getMessage());
        assertEquals(
                "blockFraction must have 1 entry or one per spatial dimension (2), got [0.1, 0.2,"
                        + " 0.3]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        BlockGeometry.ofFraction(
                                                new int[] {8, 8}, new double[] {0.1, 0.2, 0.3}))
                        .getMessage());
    }
}
