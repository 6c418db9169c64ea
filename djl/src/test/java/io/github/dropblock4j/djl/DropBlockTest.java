package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.MaskStructure;
import io.github.dropblock4j.core.ScaleMode;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DropBlockTest {

    // 3%, relative: tight enough that a gamma off by the valid-region factor (s / (s - b + 1))^2,
    // the torchvision and timm defect (1.62 for s = 28, b = 7), fails twenty times over, and wide
    // enough to span at least three standard errors (asserted, not assumed).
    private static final double RELATIVE_TOLERANCE = 0.03;
    // 1% of E[y] / E[x]: a twentieth of the 20% an output without rescaling loses at p = 0.2, and
    // at least three standard errors wide (asserted).
    private static final double MEAN_TOLERANCE = 0.01;
    // A tolerance must span at least this many standard errors, or there were too few draws.
    private static final double MIN_STANDARD_ERRORS = 3.0;
    // 32 forwards of about 2^20 units each. The standard error is the standard deviation of the
    // 32 per-forward fractions over sqrt(32) (worst case 7x7, block 7, p 0.05: 3 SE = 0.0011 <
    // 0.0015); the test asserts this rather than assuming it.
    private static final int DRAWS = 32;
    private static final int UNITS_PER_DRAW = 1 << 20;
    // float32 arithmetic on the scale: a few ulps.
    private static final float FLOAT_EPS = 1e-5f;

    private NDManager manager;

    /**
     * The two ways of drawing a mask, which must give the same distribution: painted on the host
     * (the CPU default) and built from engine operators (the default elsewhere, forced here).
     */
    enum MaskPath {
        HOST,
        ENGINE;

        DropBlock.Builder builder() {
            return DropBlock.builder().optEngineMask(this == ENGINE);
        }
    }

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(1234);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    static Stream<Arguments> grid() {
        Stream.Builder<Arguments> grid = Stream.builder();
        for (MaskPath path : MaskPath.values()) {
            for (int size : new int[] {7, 14, 28, 56}) {
                for (int block : new int[] {1, 3, 5, 7}) {
                    for (float p : new float[] {0.05f, 0.1f, 0.2f}) {
                        grid.add(Arguments.of(size, block, p, path));
                    }
                }
            }
        }
        return grid.build();
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}, {3}")
    @MethodSource("grid")
    void realisedDropRateMatchesRequest(int size, int block, float p, MaskPath path) {
        assertRealisedRate(size, block, p, GammaMode.CALIBRATED, p, path);
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}, {3}")
    @MethodSource("grid")
    void paperModeRealisesItsClosedFormExpectation(int size, int block, float p, MaskPath path) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double expected = g.expectedDropFraction(DropBlockGamma.gamma(g, p, GammaMode.PAPER));
        assertRealisedRate(size, block, p, GammaMode.PAPER, expected, path);
    }

    private void assertRealisedRate(
            int size, int block, float p, GammaMode mode, double target, MaskPath path) {
        assertRealisedRate(
                path.builder().optBlockSize(block).optDropProb(p).optGammaMode(mode).build(),
                size,
                target);
    }

    private void assertRealisedRate(DropBlock dropBlock, int size, double target) {
        int channels = Math.max(1, UNITS_PER_DRAW / (size * size * 8));
        double[] rates = new double[DRAWS];
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = sub.ones(new Shape(8, channels, size, size));
            for (int d = 0; d < DRAWS; d++) {
                try (NDManager step = sub.newSubManager()) {
                    x.attach(step);
                    NDArray y = forward(dropBlock, step, x, true);
                    rates[d] = y.eq(0).sum().toType(DataType.FLOAT64, false).getDouble() / x.size();
                    x.attach(sub);
                }
            }
        }
        assertWithinStandardErrors(rates, target, RELATIVE_TOLERANCE * target);
    }

    @ParameterizedTest
    @CsvSource({"BATCH, HOST", "BATCH, ENGINE", "EXPECTED, HOST", "EXPECTED, ENGINE"})
    void outputMeanMatchesInputMean(ScaleMode scale, MaskPath path) {
        DropBlock dropBlock =
                path.builder().optBlockSize(5).optDropProb(0.2f).optScaleMode(scale).build();
        int draws = 200;
        double[] ratios = new double[draws];
        for (int d = 0; d < draws; d++) {
            try (NDManager step = manager.newSubManager()) {
                NDArray x = step.randomUniform(0.5f, 1.5f, new Shape(16, 32, 14, 14));
                NDArray y = forward(dropBlock, step, x, true);
                ratios[d] = y.sum().getFloat() / x.sum().getFloat();
            }
        }
        assertWithinStandardErrors(ratios, 1.0, MEAN_TOLERANCE);
    }

    private static void assertWithinStandardErrors(
            double[] draws, double target, double tolerance) {
        double mean = Arrays.stream(draws).average().orElseThrow();
        double var =
                Arrays.stream(draws).map(v -> (v - mean) * (v - mean)).sum() / (draws.length - 1);
        double standardError = Math.sqrt(var / draws.length);
        assertTrue(
                tolerance >= MIN_STANDARD_ERRORS * standardError,
                "too few draws: tolerance " + tolerance + " < 3 SE = " + 3 * standardError);
        assertEquals(target, mean, tolerance);
    }

    static Stream<Arguments> structures() {
        return Stream.of(MaskPath.values())
                .flatMap(
                        path ->
                                Stream.of(
                                        Arguments.of(new long[] {4, 8, 40}, new int[] {4}, path),
                                        Arguments.of(
                                                new long[] {4, 8, 14, 14}, new int[] {5}, path),
                                        Arguments.of(
                                                new long[] {4, 8, 14, 14}, new int[] {4}, path),
                                        Arguments.of(
                                                new long[] {4, 8, 9, 17}, new int[] {3, 6}, path),
                                        Arguments.of(
                                                new long[] {2, 4, 6, 7, 8},
                                                new int[] {2, 3, 4},
                                                path)));
    }

    @ParameterizedTest
    @MethodSource("structures")
    void zerosFormWholeBlocksSeededInTheValidRegion(long[] shape, int[] block, MaskPath path) {
        DropBlock dropBlock = path.builder().optBlockSize(block).optDropProb(0.3f).build();
        NDArray y = forward(dropBlock, manager, manager.ones(new Shape(shape)), true);
        int[] spatial = new int[shape.length - 2];
        for (int i = 0; i < spatial.length; i++) {
            spatial[i] = (int) shape[i + 2];
        }
        float[] mask = y.toFloatArray();
        assertTrue(countZeros(mask) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                mask, (int) (shape[0] * shape[1]), BlockGeometry.of(spatial, block));
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void blockAsLargeAsTheMapDropsWholeChannelsOrNothing(MaskPath path) {
        DropBlock dropBlock = path.builder().optBlockSize(7).optDropProb(0.3f).build();
        float[] y =
                forward(dropBlock, manager, manager.ones(new Shape(16, 64, 7, 7)), true)
                        .toFloatArray();
        int dropped = 0;
        for (int c = 0; c < 16 * 64; c++) {
            int zeros = 0;
            for (int i = 0; i < 49; i++) {
                zeros += y[c * 49 + i] == 0f ? 1 : 0;
            }
            assertTrue(zeros == 0 || zeros == 49, "channel " + c + " has " + zeros + " zeros");
            dropped += zeros == 49 ? 1 : 0;
        }
        assertTrue(dropped > 0);
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void blockSizeOneIsElementDropout(MaskPath path) {
        // Neighbours drop independently: both zero with probability p^2, not p as in a block.
        // Over n = 64 * 64 * 63 * 64 horizontal pairs the standard error of that frequency is
        // sqrt(p^2 (1 - p^2) / n) = 7.8e-5 for p = 0.1; the tolerance is 4 of those.
        DropBlock dropBlock = path.builder().optBlockSize(1).optDropProb(0.1f).build();
        float[] y =
                forward(dropBlock, manager, manager.ones(new Shape(64, 64, 64, 64)), true)
                        .toFloatArray();
        long pairs = 0;
        long both = 0;
        for (int row = 0; row < 64 * 64 * 64; row++) {
            for (int x = 0; x < 63; x++) {
                pairs++;
                both += y[row * 64 + x] == 0f && y[row * 64 + x + 1] == 0f ? 1 : 0;
            }
        }
        assertEquals(0.01, (double) both / pairs, 4 * Math.sqrt(0.01 * 0.99 / pairs));
    }

    @Test
    void evalModeReturnsInputUnchangedWithoutRandomDraw() {
        DropBlock dropBlock = DropBlock.builder().build();
        NDArray x = manager.randomUniform(0f, 1f, new Shape(2, 3, 14, 14));
        float[] reference = nextRandom(77, () -> {});
        float[] afterEval =
                nextRandom(
                        77,
                        () ->
                                assertSame(
                                        x,
                                        dropBlock
                                                .forward(new ParameterStore(), new NDList(x), false)
                                                .singletonOrThrow()));
        assertArrayEquals(reference, afterEval);
    }

    @Test
    void zeroDropProbReturnsInputUnchangedWithoutRandomDraw() {
        NDArray x = manager.randomUniform(0f, 1f, new Shape(2, 3, 14, 14));
        float[] reference = nextRandom(78, () -> {});
        float[] afterForward =
                nextRandom(78, () -> assertSame(x, DropBlock.dropBlock(x, 0f, 7, true)));
        assertArrayEquals(reference, afterForward);
    }

    private float[] nextRandom(int seed, Runnable before) {
        Engine.getInstance().setRandomSeed(seed);
        before.run();
        return manager.randomUniform(0f, 1f, new Shape(8)).toFloatArray();
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void backwardIsMaskTimesScale(MaskPath path) {
        DropBlock dropBlock = path.builder().optBlockSize(3).optDropProb(0.2f).build();
        NDArray x = manager.randomUniform(0.5f, 1.5f, new Shape(4, 8, 14, 14));
        NDArray upstream = manager.randomUniform(-1f, 1f, x.getShape());
        x.setRequiresGradient(true);
        NDArray y;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            y = forward(dropBlock, manager, x, true);
            collector.backward(y.mul(upstream).sum());
        }
        // y = x * mask * scale, so mask * scale = y / x and dL/dx = upstream * y / x.
        NDArray expected = upstream.mul(y.div(x));
        assertTrue(x.getGradient().allClose(expected, 1e-5, 1e-6, false));
        assertTrue(y.eq(0).sum().getLong() > 0);
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void sameEngineSeedGivesSameMasks(MaskPath path) {
        DropBlock dropBlock = path.builder().optBlockSize(5).optDropProb(0.1f).build();
        NDArray x = manager.ones(new Shape(4, 16, 28, 28));
        Engine.getInstance().setRandomSeed(42);
        float[] first = forward(dropBlock, manager, x, true).toFloatArray();
        Engine.getInstance().setRandomSeed(42);
        float[] again = forward(dropBlock, manager, x, true).toFloatArray();
        Engine.getInstance().setRandomSeed(43);
        float[] other = forward(dropBlock, manager, x, true).toFloatArray();
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other));
    }

    @ParameterizedTest
    @CsvSource({
        "FLOAT16, HOST", "FLOAT32, HOST", "FLOAT64, HOST",
        "FLOAT16, ENGINE", "FLOAT32, ENGINE", "FLOAT64, ENGINE"
    })
    void dataTypeIsKept(DataType dataType, MaskPath path) {
        DropBlock dropBlock = path.builder().optBlockSize(3).optDropProb(0.2f).build();
        NDArray x = manager.ones(new Shape(4, 8, 14, 14), dataType);
        NDArray y = forward(dropBlock, manager, x, true);
        assertEquals(dataType, y.getDataType());
        assertEquals(x.getShape(), y.getShape());
        float[] values = y.toType(DataType.FLOAT32, false).toFloatArray();
        float scale = 0;
        for (float v : values) {
            if (v != 0f) {
                scale = v;
                break;
            }
        }
        // float16 holds the scale to 3 decimal digits.
        for (float v : values) {
            assertTrue(
                    v == 0f || Math.abs(v - scale) <= 1e-3f * scale,
                    "value " + v + " vs scale " + scale);
        }
        assertTrue(scale > 1f);
    }

    @Test
    void emptyBatchReturnsEmptyArray() {
        NDArray x = manager.ones(new Shape(0, 3, 7, 7));
        NDArray y = DropBlock.dropBlock(x, 0.1f, 3, true);
        assertEquals(new Shape(0, 3, 7, 7), y.getShape());
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void perSampleMaskIsSharedByAllChannelsOfASample(MaskPath path) {
        float[] y = forwardWithSharing(MaskSharing.PER_SAMPLE, path);
        int plane = 14 * 14;
        for (int n = 0; n < 4; n++) {
            for (int c = 1; c < 8; c++) {
                for (int i = 0; i < plane; i++) {
                    assertEquals(y[(n * 8) * plane + i], y[(n * 8 + c) * plane + i]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void perBatchMaskIsSharedByAllSamplesForAChannel(MaskPath path) {
        float[] y = forwardWithSharing(MaskSharing.PER_BATCH, path);
        int plane = 14 * 14;
        for (int n = 1; n < 4; n++) {
            for (int c = 0; c < 8; c++) {
                for (int i = 0; i < plane; i++) {
                    assertEquals(y[c * plane + i], y[(n * 8 + c) * plane + i]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void perChannelMasksDiffer(MaskPath path) {
        float[] y = forwardWithSharing(MaskSharing.PER_CHANNEL, path);
        int plane = 14 * 14;
        int distinct = 0;
        for (int c = 1; c < 32; c++) {
            if (!Arrays.equals(y, 0, plane, y, c * plane, (c + 1) * plane)) {
                distinct++;
            }
        }
        assertTrue(distinct > 20, "only " + distinct + " of 31 channels differ from the first");
    }

    private float[] forwardWithSharing(MaskSharing sharing, MaskPath path) {
        DropBlock dropBlock =
                path.builder().optBlockSize(3).optDropProb(0.3f).optMaskSharing(sharing).build();
        return forward(dropBlock, manager, manager.ones(new Shape(4, 8, 14, 14)), true)
                .toFloatArray();
    }

    @ParameterizedTest
    @ValueSource(floats = {1.5f, -0.1f, 1.0f, Float.NaN})
    void badDropProbIsRejectedEverywhere(float p) {
        String message = "dropProb must be in [0, 1), got " + (double) p;
        NDArray x = manager.ones(new Shape(1, 1, 7, 7));
        assertEquals(
                message,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().optDropProb(p).build())
                        .getMessage());
        assertEquals(
                message,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.dropBlock(x, p, 3, true))
                        .getMessage());
        assertEquals(
                message,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().build().setDropProb(p))
                        .getMessage());
    }

    @Test
    void badBlockSizeIsRejected() {
        assertEquals(
                "blockSize must be >= 1, got [0]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().optBlockSize(0).build())
                        .getMessage());
        assertEquals(
                "blockSize must be >= 1, got [3, -2]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().optBlockSize(3, -2).build())
                        .getMessage());
        assertEquals(
                "blockSize must have at most 3 entries (1D, 2D or 3D), got [3, 3, 3, 3]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().optBlockSize(3, 3, 3, 3).build())
                        .getMessage());
        NDArray x = manager.ones(new Shape(1, 1, 7));
        DropBlock twoD = DropBlock.builder().optBlockSize(3, 3).build();
        assertEquals(
                "blockSize must have 1 entry or one per spatial dimension (1 for input shape (1, 1, 7)),"
                        + " got [3, 3]",
                assertThrows(IllegalArgumentException.class, () -> forward(twoD, manager, x, true))
                        .getMessage());
    }

    @Test
    void badRankIsRejected() {
        DropBlock dropBlock = DropBlock.builder().build();
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 2 with shape (4, 7)",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        forward(
                                                dropBlock,
                                                manager,
                                                manager.ones(new Shape(4, 7)),
                                                true))
                        .getMessage());
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 6 with shape (1, 1, 2, 2, 2, 2)",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        forward(
                                                dropBlock,
                                                manager,
                                                manager.ones(new Shape(1, 1, 2, 2, 2, 2)),
                                                false))
                        .getMessage());
    }

    @Test
    void nonFloatingDataTypeIsRejected() {
        NDArray x = manager.ones(new Shape(1, 1, 7, 7), DataType.INT32);
        assertEquals(
                "input must have a floating-point data type (float16, float32, float64), got int32",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.dropBlock(x, 0.1f, 3, true))
                        .getMessage());
    }

    @Test
    void builderDefaultsAreThePapersBest() {
        DropBlock dropBlock = DropBlock.builder().build();
        assertEquals(0.1f, dropBlock.getDropProb());
        assertArrayEquals(new int[] {7}, dropBlock.getBlockSize());
        assertEquals(GammaMode.CALIBRATED, dropBlock.getGammaMode());
        assertEquals(ScaleMode.BATCH, dropBlock.getScaleMode());
        assertEquals(MaskSharing.PER_CHANNEL, dropBlock.getMaskSharing());
        assertEquals(
                "DropBlock(dropProb=0.1, blockSize=[7], gammaMode=CALIBRATED, scaleMode=BATCH, maskSharing=PER_CHANNEL)",
                dropBlock.toString());
        assertEquals(
                new Shape(2, 3, 5, 5),
                dropBlock.getOutputShapes(new Shape[] {new Shape(2, 3, 5, 5)})[0]);
    }

    @Test
    void engineMaskOptionIsKeptAndShown() {
        assertFalse(DropBlock.builder().build().isEngineMask());
        DropBlock engine = DropBlock.builder().optEngineMask(true).build();
        assertTrue(engine.isEngineMask());
        assertEquals(
                "DropBlock(dropProb=0.1, blockSize=[7], gammaMode=CALIBRATED, scaleMode=BATCH,"
                        + " maskSharing=PER_CHANNEL, engineMask=true)",
                engine.toString());
    }

    static Stream<Arguments> fractions() {
        return Stream.of(MaskPath.values())
                .flatMap(
                        path ->
                                Stream.of(
                                        Arguments.of(28, 0.25, 7, path),
                                        Arguments.of(14, 0.25, 4, path),
                                        Arguments.of(7, 0.43, 3, path)));
    }

    @ParameterizedTest(name = "{0}x{0}, fraction {1}: block {2}, {3}")
    @MethodSource("fractions")
    void blockFractionDropsWholeBlocksOfTheAppliedSizeAtTheRequestedRate(
            int size, double fraction, int block, MaskPath path) {
        // Gamma must use the applied block: the realised rate matches p only if it does.
        DropBlock dropBlock = path.builder().optBlockFraction(fraction).optDropProb(0.1f).build();
        assertRealisedRate(dropBlock, size, 0.1);
        float[] y =
                forward(dropBlock, manager, manager.ones(new Shape(4, 8, size, size)), true)
                        .toFloatArray();
        assertTrue(countZeros(y) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                y, 4 * 8, BlockGeometry.of(new int[] {size, size}, new int[] {block}));
    }

    @Test
    void blockSizeAndFractionAreExclusiveAndTheFractionIsShown() {
        assertEquals(
                "blockSize and blockFraction are exclusive, got [5] and [0.25]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DropBlock.builder()
                                                .optBlockSize(5)
                                                .optBlockFraction(0.25)
                                                .build())
                        .getMessage());
        DropBlock relative = DropBlock.builder().optBlockFraction(0.25, 0.5).build();
        assertArrayEquals(new double[] {0.25, 0.5}, relative.getBlockFraction());
        assertEquals(null, relative.getBlockSize());
        assertEquals(
                "DropBlock(dropProb=0.1, blockFraction=[0.25, 0.5], gammaMode=CALIBRATED,"
                        + " scaleMode=BATCH, maskSharing=PER_CHANNEL)",
                relative.toString());
        assertEquals(
                "blockFraction must be in (0, 1], got [1.5]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlock.builder().optBlockFraction(1.5).build())
                        .getMessage());
    }

    static Stream<Arguments> counting() {
        return Stream.of(MaskPath.values())
                .flatMap(
                        path ->
                                Stream.of(MaskSharing.PER_CHANNEL, MaskSharing.PER_SAMPLE)
                                        .map(sharing -> Arguments.of(path, sharing)));
    }

    @ParameterizedTest
    @MethodSource("counting")
    void takeDropCountIsTheZeroedUnitsOfTheTrainingForwards(MaskPath path, MaskSharing sharing) {
        DropBlock dropBlock =
                path.builder().optBlockSize(3).optDropProb(0.2f).optMaskSharing(sharing).build();
        dropBlock.setDropCounting(true);
        NDArray x = manager.ones(new Shape(4, 8, 14, 14));
        long zeros = 0;
        for (int i = 0; i < 3; i++) {
            zeros += countZeros(forward(dropBlock, manager, x, true).toFloatArray());
        }
        forward(dropBlock, manager, x, false);
        DropCount count = dropBlock.takeDropCount();
        assertEquals(new DropCount(3 * x.size(), zeros), count);
        assertTrue(zeros > 0);
        assertEquals(DropCount.NONE, dropBlock.takeDropCount());
        // A drop probability of 0 sees units and drops none.
        dropBlock.setDropProb(0f);
        forward(dropBlock, manager, x, true);
        assertEquals(new DropCount(x.size(), 0), dropBlock.takeDropCount());
    }

    @Test
    void engineMasksAreCountedOnlyWhenAsked() {
        DropBlock dropBlock = MaskPath.ENGINE.builder().optBlockSize(3).optDropProb(0.2f).build();
        assertFalse(dropBlock.isDropCounting());
        forward(dropBlock, manager, manager.ones(new Shape(4, 8, 14, 14)), true);
        assertEquals(DropCount.NONE, dropBlock.takeDropCount());
        DropBlock host = MaskPath.HOST.builder().optBlockSize(3).optDropProb(0.2f).build();
        forward(host, manager, manager.ones(new Shape(4, 8, 14, 14)), true);
        assertEquals(4 * 8 * 14 * 14, host.takeDropCount().units());
    }

    static NDArray forward(DropBlock block, NDManager manager, NDArray x, boolean training) {
        return block.forward(new ParameterStore(manager, false), new NDList(x), training)
                .singletonOrThrow();
    }

    private static long countZeros(float[] values) {
        long zeros = 0;
        for (float v : values) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }
}
