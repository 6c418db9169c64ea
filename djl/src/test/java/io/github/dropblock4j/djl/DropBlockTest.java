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
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
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

/**
 * The DJL block's own behaviours: its builder, metadata, data types, gradients, random draws and
 * drop counts. What every DropBlock promises (rates, means, block structure, mask sharing) is in
 * {@link DropBlockContractTest}.
 */
class DropBlockTest {

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
