package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

class MaskSamplerTest {

    // The bar: realised drop fraction within 3% (relative) of its target.
    private static final double RELATIVE_TOLERANCE = 0.03;
    // The tolerance must be at least this many standard errors, or the test has too few draws.
    private static final double MIN_STANDARD_ERRORS = 3.0;
    // Draws per configuration: 32 independent batches of 2^20 units. The standard error of the
    // realised fraction is the standard deviation of the 32 batch fractions over sqrt(32); the
    // worst case (7x7 map, block 7, p = 0.05: whole maps drop, sd 0.218 per mask) gives
    // 3 SE = 0.0011 < 0.0015 = 3% of p.
    private static final int BATCHES = 32;
    private static final int UNITS_PER_BATCH = 1 << 20;

    static Stream<Arguments> grid() {
        Stream.Builder<Arguments> grid = Stream.builder();
        for (int size : new int[] {7, 14, 28, 56}) {
            for (int block : new int[] {1, 3, 5, 7}) {
                for (double p : new double[] {0.05, 0.1, 0.2}) {
                    grid.add(Arguments.of(size, block, p));
                }
            }
        }
        return grid.build();
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}")
    @MethodSource("grid")
    void realisedDropFractionMatchesRequestWhenCalibrated(int size, int block, double p) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double gamma = DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED);
        assertRealisedFraction(g, gamma, p, seedOf(size, block, p));
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}")
    @MethodSource("grid")
    void realisedDropFractionMatchesClosedFormInPaperMode(int size, int block, double p) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double gamma = DropBlockGamma.gamma(g, p, GammaMode.PAPER);
        assertRealisedFraction(g, gamma, g.expectedDropFraction(gamma), seedOf(size, block, p) + 1);
    }

    private static long seedOf(int size, int block, double p) {
        return size * 1000L + block * 10L + Math.round(p * 100);
    }

    private static void assertRealisedFraction(BlockGeometry g, double gamma, double target, long seed) {
        int masks = Math.max(1, (int) (UNITS_PER_BATCH / g.area()));
        int units = Math.toIntExact(masks * g.area());
        FloatBuffer buffer = FloatBuffer.allocate(units);
        SplittableRandom random = new SplittableRandom(seed);
        double[] fractions = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            fill(buffer, 1f);
            fractions[b] = (double) MaskSampler.paint(buffer, masks, g, gamma, random) / units;
        }
        double mean = Arrays.stream(fractions).average().orElseThrow();
        double var = Arrays.stream(fractions).map(f -> (f - mean) * (f - mean)).sum() / (BATCHES - 1);
        double standardError = Math.sqrt(var / BATCHES);
        double tolerance = RELATIVE_TOLERANCE * target;
        assertTrue(
                tolerance >= MIN_STANDARD_ERRORS * standardError,
                "too few draws: tolerance " + tolerance + " < 3 SE = " + 3 * standardError);
        assertEquals(target, mean, tolerance, g + ", gamma " + gamma);
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(new int[] {40}, new int[] {4}),
                Arguments.of(new int[] {14, 14}, new int[] {5}),
                Arguments.of(new int[] {14, 14}, new int[] {4}),
                Arguments.of(new int[] {9, 17}, new int[] {3, 6}),
                Arguments.of(new int[] {17, 9}, new int[] {6, 3}),
                Arguments.of(new int[] {6, 7, 8}, new int[] {2, 3, 4}),
                Arguments.of(new int[] {5, 11}, new int[] {8}));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void everyZeroLiesInAnAllZeroBlockWithAValidSeed(int[] size, int[] block) {
        BlockGeometry g = BlockGeometry.of(size, block);
        int masks = 200;
        float[] mask = new float[Math.toIntExact(masks * g.area())];
        Arrays.fill(mask, 1f);
        double gamma = DropBlockGamma.gamma(g, 0.3, GammaMode.CALIBRATED);
        long dropped = MaskSampler.paint(FloatBuffer.wrap(mask), masks, g, gamma, new SplittableRandom(7));
        assertTrue(dropped > 0);
        assertEquals(countZeros(mask), dropped);
        MaskStructure.assertUnionOfValidBlocks(mask, masks, g);
    }

    @Test
    void structureCheckRejectsAStrayZero() {
        BlockGeometry g = BlockGeometry.of(new int[] {6, 6}, new int[] {3});
        float[] mask = new float[36];
        Arrays.fill(mask, 1f);
        mask[14] = 0f;
        assertThrows(
                AssertionFailedError.class, () -> MaskStructure.assertUnionOfValidBlocks(mask, 1, g));
    }

    @Test
    void blockSizeOneDropsUnitsIndependently() {
        // With block 1 a unit and its right neighbour are both dropped with probability p^2
        // (p for blocks). Over n = 2^22 - 2^11 pairs the standard error of that frequency is
        // sqrt(p^2 (1 - p^2) / n) = 4.9e-5; the tolerance is 4 of those.
        BlockGeometry g = BlockGeometry.of(new int[] {2048}, new int[] {1});
        double p = 0.1;
        int masks = 2048;
        float[] mask = new float[masks * 2048];
        Arrays.fill(mask, 1f);
        MaskSampler.paint(FloatBuffer.wrap(mask), masks, g, DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED),
                new SplittableRandom(11));
        long pairs = 0;
        long both = 0;
        for (int m = 0; m < masks; m++) {
            for (int x = 0; x + 1 < 2048; x++) {
                pairs++;
                if (mask[m * 2048 + x] == 0f && mask[m * 2048 + x + 1] == 0f) {
                    both++;
                }
            }
        }
        double se = Math.sqrt(p * p * (1 - p * p) / pairs);
        assertEquals(p * p, (double) both / pairs, 4 * se);
    }

    @Test
    void blockAsLargeAsTheMapDropsWholeMapsOrNothing() {
        // Each mask is dropped whole with probability p = 0.2; over 20000 masks the standard
        // error of the dropped share is sqrt(0.2 * 0.8 / 20000) = 0.0028; tolerance 4 SE.
        BlockGeometry g = BlockGeometry.of(new int[] {7, 5}, new int[] {7, 5});
        int masks = 20000;
        float[] mask = new float[masks * 35];
        Arrays.fill(mask, 1f);
        MaskSampler.paint(FloatBuffer.wrap(mask), masks, g, DropBlockGamma.gamma(g, 0.2, GammaMode.CALIBRATED),
                new SplittableRandom(3));
        int whole = 0;
        for (int m = 0; m < masks; m++) {
            int zeros = 0;
            for (int i = 0; i < 35; i++) {
                zeros += mask[m * 35 + i] == 0f ? 1 : 0;
            }
            assertTrue(zeros == 0 || zeros == 35, "mask " + m + " has " + zeros + " zeros");
            whole += zeros == 35 ? 1 : 0;
        }
        assertEquals(0.2, (double) whole / masks, 4 * Math.sqrt(0.2 * 0.8 / masks));
    }

    @Test
    void sameSeedSameMaskAndOtherSeedOtherMask() {
        BlockGeometry g = BlockGeometry.of(new int[] {28, 28}, new int[] {5});
        double gamma = DropBlockGamma.gamma(g, 0.1, GammaMode.CALIBRATED);
        float[] a = paintOnes(g, 64, gamma, 5);
        float[] b = paintOnes(g, 64, gamma, 5);
        float[] c = paintOnes(g, 64, gamma, 6);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void gammaZeroPaintsNothingAndGammaOnePaintsEverything() {
        BlockGeometry g = BlockGeometry.of(new int[] {10, 10}, new int[] {3});
        assertEquals(0, countZeros(paintOnes(g, 4, 0.0, 1)));
        assertEquals(400, countZeros(paintOnes(g, 4, 1.0, 1)));
    }

    @Test
    void badArgumentsNameTheValue() {
        BlockGeometry g = BlockGeometry.of(new int[] {4, 4}, new int[] {2});
        FloatBuffer small = FloatBuffer.allocate(20);
        SplittableRandom r = new SplittableRandom(1);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> MaskSampler.paint(small, 1, g, 1.5, r));
        assertEquals("gamma must be in [0, 1], got 1.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MaskSampler.paint(small, 1, g, Double.NaN, r));
        assertEquals("gamma must be in [0, 1], got NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MaskSampler.paint(small, 2, g, 0.1, r));
        assertEquals("mask must hold numMasks * area = 32 units, got capacity 20", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MaskSampler.paint(small, -1, g, 0.1, r));
        assertEquals("numMasks must be >= 0, got -1", e.getMessage());
    }

    private static float[] paintOnes(BlockGeometry g, int masks, double gamma, long seed) {
        float[] mask = new float[Math.toIntExact(masks * g.area())];
        Arrays.fill(mask, 1f);
        MaskSampler.paint(FloatBuffer.wrap(mask), masks, g, gamma, new SplittableRandom(seed));
        return mask;
    }

    private static void fill(FloatBuffer buffer, float value) {
        Arrays.fill(buffer.array(), value);
    }

    private static long countZeros(float[] mask) {
        long zeros = 0;
        for (float v : mask) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }
}
