package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;

class BlockSeedsTest {

    static Stream<Arguments> geometries() {
        return Stream.of(
                // Many masks per chunk, so several chunks.
                Arguments.of(new int[] {14, 14}, new int[] {7}, 3000, 0.3),
                Arguments.of(new int[] {56, 56}, new int[] {7}, 64, 0.5),
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
    void droppedCountsTheUnionOfTheBlocks(int[] size, int[] block, int masks, double p) {
        BlockGeometry g = BlockGeometry.of(size, block);
        BlockSeeds seeds =
                BlockSeeds.draw(
                        masks,
                        g,
                        DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED),
                        new SplittableRandom(5));
        float[] mask = new float[Math.toIntExact(masks * g.area())];
        Arrays.fill(mask, 2f);
        seeds.paintZeros(FloatBuffer.wrap(mask));
        assertTrue(seeds.dropped() > 0);
        assertEquals(countZeros(mask), seeds.dropped());
        MaskStructure.assertUnionOfValidBlocks(mask, masks, g);
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void writeGivesKeepOutsideTheBlocksAndZeroInside(int[] size, int[] block, int masks, double p) {
        BlockGeometry g = BlockGeometry.of(size, block);
        double gamma = DropBlockGamma.gamma(g, p, GammaMode.CALIBRATED);
        int units = Math.toIntExact(masks * g.area());
        FloatBuffer written =
                ByteBuffer.allocateDirect(4 * units).order(ByteOrder.nativeOrder()).asFloatBuffer();
        // Several writes in a row, with new and repeated values, through the same scratch.
        for (float keep : new float[] {1.25f, 3f, 3f, 0.5f}) {
            BlockSeeds seeds =
                    BlockSeeds.draw(
                            masks, g, gamma, new SplittableRandom(Float.floatToIntBits(keep)));
            seeds.write(written, keep);
            float[] expected = new float[units];
            Arrays.fill(expected, keep);
            seeds.paintZeros(FloatBuffer.wrap(expected));
            float[] actual = new float[units];
            written.get(0, actual);
            assertArrayEquals(expected, actual, "keep " + keep);
        }
    }

    @Test
    void sameGeneratorGivesSameMasksWhateverTheParallelism() throws Exception {
        BlockGeometry g = BlockGeometry.of(new int[] {28, 28}, new int[] {5});
        double gamma = DropBlockGamma.gamma(g, 0.1, GammaMode.CALIBRATED);
        int masks = 4096;
        assertTrue(masks * g.area() > 8L * BlockSeeds.UNITS_PER_CHUNK, "too few chunks to split");
        float[] sequential = paintIn(new ForkJoinPool(1), g, masks, gamma);
        float[] parallel = paintIn(new ForkJoinPool(4), g, masks, gamma);
        assertArrayEquals(sequential, parallel);
    }

    private static float[] paintIn(ForkJoinPool pool, BlockGeometry g, int masks, double gamma)
            throws Exception {
        try {
            return pool.submit(
                            () -> {
                                float[] mask = new float[Math.toIntExact(masks * g.area())];
                                Arrays.fill(mask, 1f);
                                BlockSeeds.draw(masks, g, gamma, new SplittableRandom(9))
                                        .paintZeros(FloatBuffer.wrap(mask));
                                return mask;
                            })
                    .get();
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void paintsIntoADirectBuffer() {
        BlockGeometry g = BlockGeometry.of(new int[] {14, 14}, new int[] {3});
        int masks = 1000;
        int units = Math.toIntExact(masks * g.area());
        BlockSeeds seeds = BlockSeeds.draw(masks, g, 0.05, new SplittableRandom(3));
        FloatBuffer direct =
                ByteBuffer.allocateDirect(4 * units).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] heap = new float[units];
        for (int i = 0; i < units; i++) {
            direct.put(i, 1f);
            heap[i] = 1f;
        }
        seeds.paintZeros(direct);
        seeds.paintZeros(FloatBuffer.wrap(heap));
        float[] fromDirect = new float[units];
        direct.get(0, fromDirect);
        assertArrayEquals(heap, fromDirect);
    }

    @Test
    void gammaZeroDrawsNoSeedAndGammaOneDrawsEveryValidPosition() {
        BlockGeometry g = BlockGeometry.of(new int[] {10, 12}, new int[] {3, 4});
        assertEquals(0, BlockSeeds.draw(5, g, 0.0, new SplittableRandom(1)).seedCount());
        BlockSeeds all = BlockSeeds.draw(5, g, 1.0, new SplittableRandom(1));
        assertEquals(5 * g.validCount(), all.seedCount());
        assertEquals(5 * g.area(), all.dropped());
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
                                () -> seeds.paintZeros(FloatBuffer.allocate(20)))
                        .getMessage());
    }

    private static long countZeros(float[] mask) {
        long zeros = 0;
        for (float v : mask) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }
}
