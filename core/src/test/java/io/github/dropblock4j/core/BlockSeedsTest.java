package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

class BlockSeedsTest {

    // 3%, relative: tight enough that a gamma off by the valid-region factor (s / (s - b + 1))^2,
    // the torchvision and timm defect (1.62 for s = 28, b = 7), fails twenty times over, and wide
    // enough to span at least three standard errors (see below).
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

    private static void assertRealisedFraction(
            BlockGeometry g, double gamma, double target, long seed) {
        int masks = Math.max(1, (int) (UNITS_PER_BATCH / g.area()));
        long units = masks * g.area();
        SplittableRandom random = new SplittableRandom(seed);
        double[] fractions = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            fractions[b] = (double) BlockSeeds.draw(masks, g, gamma, random).dropped() / units;
        }
        double mean = Arrays.stream(fractions).average().orElseThrow();
        double var =
                Arrays.stream(fractions).map(f -> (f - mean) * (f - mean)).sum() / (BATCHES - 1);
        double standardError = Math.sqrt(var / BATCHES);
        double tolerance = RELATIVE_TOLERANCE * target;
        assertTrue(
                tolerance >= MIN_STANDARD_ERRORS * standardError,
                "too few draws: tolerance " + tolerance + " < 3 SE = " + 3 * standardError);
        assertEquals(target, mean, tolerance, g + ", gamma " + gamma);
    }

    static Stream<Arguments> geometries() {
        return Stream.of(
                // Many masks per chunk, so several chunks.
                Arguments.of(new int[] {14, 14}, new int[] {7}, 3000, 0.3),
                Arguments.of(new int[] {56, 56}, new int[] {7}, 64, 0.5),
                // Even blocks, one dimension, swapped rectangles, a block larger than the map.
                Arguments.of(new int[] {40}, new int[] {4}, 200, 0.3),
                Arguments.of(new int[] {14, 14}, new int[] {4}, 200, 0.3),
                Arguments.of(new int[] {9, 17}, new int[] {3, 6}, 200, 0.3),
                Arguments.of(new int[] {17, 9}, new int[] {6, 3}, 200, 0.3),
                Arguments.of(new int[] {5, 11}, new int[] {8}, 200, 0.3),
                // Rows longer than one 64-bit word, and blocks that straddle words.
                Arguments.of(new int[] {200}, new int[] {70}, 500, 0.4),
                Arguments.of(new int[] {5, 130}, new int[] {3, 70}, 300, 0.6),
                Arguments.of(new int[] {6, 7, 8}, new int[] {2, 3, 4}, 400, 0.5),
                // Dense seeds: almost every block overlaps another.
                Arguments.of(new int[] {9, 17}, new int[] {3, 6}, 200, 0.95),
                // One mask bigger than a chunk.
                Arguments.of(new int[] {300, 300}, new int[] {5}, 2, 0.2));
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void writtenZerosAreTheUnionOfValidBlocksAndDroppedCountsThem(
            int[] size, int[] block, int masks, double p) {
        BlockGeometry g = BlockGeometry.of(size, block);
        BlockSeeds seeds =
                BlockSeeds.draw(
                        masks,
                        g,
                        DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED),
                        new SplittableRandom(5));
        float[] mask = new float[Math.toIntExact(masks * g.area())];
        seeds.write(FloatBuffer.wrap(mask), 2f);
        assertTrue(seeds.dropped() > 0);
        assertEquals(count(mask, 0f), seeds.dropped());
        assertEquals(mask.length - seeds.dropped(), count(mask, 2f), "every other unit is keep");
        MaskStructure.assertUnionOfValidBlocks(mask, masks, g);
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void writeOverwritesWhateverTheBufferHeld(int[] size, int[] block, int masks, double p) {
        BlockGeometry g = BlockGeometry.of(size, block);
        double gamma = DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED);
        int units = Math.toIntExact(masks * g.area());
        FloatBuffer direct =
                ByteBuffer.allocateDirect(4 * units).order(ByteOrder.nativeOrder()).asFloatBuffer();
        // Several writes in a row into the same direct buffer, through the same scratch, each
        // compared with a write of the same seeds into a fresh heap array.
        for (float keep : new float[] {1.25f, 3f, 3f, 0.5f}) {
            BlockSeeds seeds =
                    BlockSeeds.draw(
                            masks, g, gamma, new SplittableRandom(Float.floatToIntBits(keep)));
            seeds.write(direct, keep);
            float[] expected = new float[units];
            seeds.write(FloatBuffer.wrap(expected), keep);
            float[] actual = new float[units];
            direct.get(0, actual);
            assertArrayEquals(expected, actual, "keep " + keep);
            assertEquals(units - seeds.dropped(), count(actual, keep), "keep " + keep);
        }
    }

    @Test
    void structureCheckRejectsAStrayZero() {
        BlockGeometry g = BlockGeometry.of(new int[] {6, 6}, new int[] {3});
        float[] mask = new float[36];
        Arrays.fill(mask, 1f);
        mask[14] = 0f;
        assertThrows(
                AssertionFailedError.class,
                () -> MaskStructure.assertUnionOfValidBlocks(mask, 1, g));
    }

    @Test
    void blockSizeOneDropsUnitsIndependently() {
        // With block 1 a unit and its right neighbour are both dropped with probability p^2
        // (p for blocks). Over n = 2^22 - 2^11 pairs the standard error of that frequency is
        // sqrt(p^2 (1 - p^2) / n) = 4.9e-5; the tolerance is 4 of those.
        BlockGeometry g = BlockGeometry.of(new int[] {2048}, new int[] {1});
        double p = 0.1;
        int masks = 2048;
        float[] mask = sample(g, masks, DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED), 11);
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
        float[] mask = sample(g, masks, DropBlockGamma.gamma(g, 0.2, GammaMode.CALIBRATED), 3);
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
        float[] a = sample(g, 64, gamma, 5);
        float[] b = sample(g, 64, gamma, 5);
        float[] c = sample(g, 64, gamma, 6);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void sameGeneratorGivesSameMasksWhateverTheParallelism() throws Exception {
        BlockGeometry g = BlockGeometry.of(new int[] {28, 28}, new int[] {5});
        double gamma = DropBlockGamma.gamma(g, 0.1, GammaMode.CALIBRATED);
        int masks = 4096;
        assertTrue(masks * g.area() > 8L * BlockSeeds.UNITS_PER_CHUNK, "too few chunks to split");
        float[] sequential = sampleIn(new ForkJoinPool(1), g, masks, gamma);
        float[] parallel = sampleIn(new ForkJoinPool(4), g, masks, gamma);
        assertArrayEquals(sequential, parallel);
    }

    private static float[] sampleIn(ForkJoinPool pool, BlockGeometry g, int masks, double gamma)
            throws Exception {
        try {
            return pool.submit(() -> sample(g, masks, gamma, 9)).get();
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void gammaZeroDrawsNoSeedAndGammaOneDrawsEveryValidPosition() {
        BlockGeometry g = BlockGeometry.of(new int[] {10, 12}, new int[] {3, 4});
        BlockSeeds none = BlockSeeds.draw(5, g, 0.0, new SplittableRandom(1));
        assertEquals(0, none.seedCount());
        assertEquals(0, none.dropped());
        BlockSeeds all = BlockSeeds.draw(5, g, 1.0, new SplittableRandom(1));
        assertEquals(5 * g.validCount(), all.seedCount());
        assertEquals(5 * g.area(), all.dropped());
        assertEquals(0, count(sample(g, 5, 0.0, 1), 0f));
        assertEquals(5 * g.area(), count(sample(g, 5, 1.0, 1), 0f));
    }

    @Test
    void badArgumentsNameTheValue() {
        BlockGeometry g = BlockGeometry.of(new int[] {4, 4}, new int[] {2});
        SplittableRandom r = new SplittableRandom(1);
        assertEquals(
                "gamma must be in [0, 1], got -0.5",
                assertThrows(IllegalArgumentException.class, () -> BlockSeeds.draw(1, g, -0.5, r))
                        .getMessage());
        assertEquals(
                "gamma must be in [0, 1], got NaN",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockSeeds.draw(1, g, Double.NaN, r))
                        .getMessage());
        assertEquals(
                "numMasks must be >= 0, got -2",
                assertThrows(IllegalArgumentException.class, () -> BlockSeeds.draw(-2, g, 0.1, r))
                        .getMessage());
        assertEquals(
                "numMasks * area must be at most 2147483647, got 1000000000 * 16",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BlockSeeds.draw(1_000_000_000L, g, 0.1, r))
                        .getMessage());
        BlockSeeds seeds = BlockSeeds.draw(2, g, 0.1, r);
        assertEquals(
                "mask must hold numMasks * area = 32 units, got capacity 20",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> seeds.write(FloatBuffer.allocate(20), 1f))
                        .getMessage());
    }

    /** Draws and writes {@code masks} masks of ones and zeros. */
    private static float[] sample(BlockGeometry g, int masks, double gamma, long seed) {
        float[] mask = new float[Math.toIntExact(masks * g.area())];
        BlockSeeds.draw(masks, g, gamma, new SplittableRandom(seed))
                .write(FloatBuffer.wrap(mask), 1f);
        return mask;
    }

    private static long count(float[] mask, float value) {
        long n = 0;
        for (float v : mask) {
            n += v == value ? 1 : 0;
        }
        return n;
    }
}
