package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.MaskStructure;
import io.github.dropblock4j.core.ScaleMode;
import java.util.Arrays;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * The DL4J dropout's own behaviours: its options, JSON-free value semantics, workspaces, gradients
 * inside networks, data types, schedules and drop counts. What every DropBlock promises (rates,
 * means, block structure, mask sharing) is in {@link DropBlockContractTest}.
 */
class DropBlockTest {

    // float32 arithmetic on the scale: a few ulps.
    private static final double FLOAT_EPS = 1e-6;
    // float16 keeps 11 significant bits, bfloat16 8: relative rounding errors of at most 2^-11
    // and 2^-8.
    private static final double HALF_EPS = 1.0 / 2048;
    private static final double BFLOAT16_EPS = 1.0 / 256;

    private static final LayerWorkspaceMgr NO_WORKSPACES = LayerWorkspaceMgr.noWorkspaces();

    /**
     * The two ways of building a mask, which must give the same distribution: painted on the host
     * (the nd4j-native default) and built from ND4J operations (the default on other backends,
     * forced here).
     */
    enum MaskPath {
        HOST,
        ND4J;

        DropBlock of(DropBlock dropBlock) {
            return dropBlock.withEngineMask(this == ND4J);
        }
    }

    @BeforeEach
    void setUp() {
        Nd4j.getRandom().setSeed(1234);
    }

    /** A training forward of DropBlock alone, as a layer calls it, without workspaces. */
    static INDArray forward(DropBlock dropBlock, INDArray x) {
        return dropBlock.applyDropout(x, x.ulike(), 0, 0, NO_WORKSPACES);
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void backwardIsMaskTimesScale(MaskPath path) {
        DropBlock dropBlock = path.of(new DropBlock(0.8, 3));
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 8, 14, 14).addi(0.5);
        INDArray y = forward(dropBlock, x);
        INDArray upstream = Nd4j.rand(DataType.FLOAT, 4, 8, 14, 14).subi(0.5);
        INDArray gradient = dropBlock.backprop(upstream, upstream.ulike(), 0, 0);
        // y = x * mask * scale, so mask * scale = y / x and dL/dx = upstream * y / x.
        INDArray expected = upstream.mul(y.div(x));
        assertTrue(gradient.equalsWithEps(expected, FLOAT_EPS));
        assertTrue(countZeros(gradient) > 0);
    }

    @Test
    void backwardInPlaceOverwritesTheGradient() {
        DropBlock dropBlock = new DropBlock(0.8, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        INDArray y = forward(dropBlock, x);
        INDArray gradient = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        assertSame(gradient, dropBlock.backprop(gradient, gradient, 0, 0));
        assertEquals(y, gradient);
    }

    @Test
    void backwardForgetsTheMask() {
        DropBlock dropBlock = new DropBlock(0.8, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        forward(dropBlock, x);
        dropBlock.backprop(x, x.ulike(), 0, 0);
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class, () -> dropBlock.backprop(x, x.ulike(), 0, 0));
        assertEquals(
                "Cannot back-propagate DropBlock: no mask from a training forward (already"
                        + " cleared?)",
                e.getMessage());
        forward(dropBlock, x);
        dropBlock.clear();
        assertThrows(IllegalStateException.class, () -> dropBlock.backprop(x, x.ulike(), 0, 0));
    }

    @Test
    void gradientInAnotherLayoutIsRejected() {
        // What DL4J's NHWC ConvolutionLayer does: forward on (N, H, W, C), backward on (N, C, H,
        // W).
        DropBlock dropBlock = new DropBlock(0.8, 3).withChannelsLast(true);
        forward(dropBlock, Nd4j.ones(DataType.FLOAT, 2, 10, 12, 3));
        INDArray nchw = Nd4j.ones(DataType.FLOAT, 2, 3, 10, 12);
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class, () -> dropBlock.backprop(nchw, nchw, 0, 0));
        assertEquals(
                "DropBlock's gradient must have the shape of its forward input [2, 10, 12, 3], got"
                        + " [2, 3, 10, 12]: DL4J's ConvolutionLayer with CNN2DFormat.NHWC"
                        + " back-propagates its dropout in NCHW; put DropBlock in a DropoutLayer"
                        + " with withChannelsLast(true) instead",
                e.getMessage());
    }

    @Test
    void inputIsNeverWrittenEvenWhenOfferedAsResult() {
        DropBlock dropBlock = new DropBlock(0.5, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        INDArray y = dropBlock.applyDropout(x, x, 0, 0, NO_WORKSPACES);
        assertNotSame(x, y);
        assertEquals(Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14), x);
        assertTrue(countZeros(y) > 0);
    }

    @Test
    void resultArrayIsFilledWhenItIsNotTheInput() {
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        INDArray result = x.ulike();
        assertSame(result, new DropBlock(0.5, 3).applyDropout(x, result, 0, 0, NO_WORKSPACES));
        assertTrue(countZeros(result) > 0);
    }

    @Test
    void maskAndOutputLiveInTheInputWorkspace() {
        WorkspaceConfiguration config = WorkspaceConfiguration.builder().build();
        LayerWorkspaceMgr workspaces =
                LayerWorkspaceMgr.builder()
                        .with(ArrayType.INPUT, "dropblock-input", config)
                        .defaultNoWorkspace()
                        .build();
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        DropBlock dropBlock = new DropBlock(0.5, 3);
        try (MemoryWorkspace ws = workspaces.notifyScopeEntered(ArrayType.INPUT)) {
            INDArray y = dropBlock.applyDropout(x, x, 0, 0, workspaces);
            assertTrue(y.isAttached());
            assertEquals("dropblock-input", y.data().getParentWorkspace().getId());
            INDArray gradient = dropBlock.backprop(x, x.ulike(), 0, 0);
            assertEquals(y, gradient);
        }
    }

    @Test
    void keepProbOneIsTheIdentityBothWays() {
        DropBlock dropBlock = new DropBlock(1.0, 3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 4, 14, 14);
        assertSame(x, forward(dropBlock, x));
        INDArray upstream = Nd4j.rand(DataType.FLOAT, 2, 4, 14, 14);
        assertEquals(upstream, dropBlock.backprop(upstream, upstream.ulike(), 0, 0));
    }

    @Test
    void emptyBatchReturnsTheEmptyInput() {
        INDArray x = Nd4j.create(DataType.FLOAT, 0, 3, 7, 7);
        assertSame(x, forward(new DropBlock(0.9, 3), x));
    }

    @Test
    void evaluationIsTheIdentityInANetwork() {
        MultiLayerNetwork net = pooledNetwork(new DropBlock(0.5, 3), false);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 14, 14);
        assertEquals(x, net.feedForward(x, false).get(1));
        INDArray trained = net.feedForward(x, true).get(1);
        assertNotEquals(x, trained);
        assertTrue(countZeros(trained) > 0);
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void dropoutLayerGradientIsMaskedByWholeBlocks(MaskPath path) {
        // DropoutLayer, then a sum over each map: dL/dy is one value per (sample, channel), so
        // dL/dx = that value * mask * scale, zero exactly on the blocks and constant elsewhere.
        // The network runs in DL4J's workspaces, where the mask of either path must live.
        MultiLayerNetwork net = pooledNetwork(path.of(new DropBlock(0.7, 3)), false);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 14, 14);
        INDArray labels = Nd4j.eye(4).getColumns(0, 1);
        INDArray dx = net.calculateGradients(x, labels, null, null).getSecond();
        float[] g = dx.data().asFloat();
        assertTrue(countZeros(g) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                g, 4 * 3, BlockGeometry.of(new int[] {14, 14}, new int[] {3}));
        for (int map = 0; map < 12; map++) {
            float kept = Float.NaN;
            for (int i = map * 196; i < (map + 1) * 196; i++) {
                if (g[i] != 0f) {
                    assertTrue(Float.isNaN(kept) || g[i] == kept, "map " + map + ": " + g[i]);
                    kept = g[i];
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void convolutionLayerDropoutMasksTheInputGradient(MaskPath path) {
        // A convolution's input gradient is generically non-zero; its dropout zeroes the blocks.
        MultiLayerNetwork net = pooledNetwork(path.of(new DropBlock(0.7, 3)), true);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 14, 14);
        INDArray labels = Nd4j.eye(4).getColumns(0, 1);
        float[] g = net.calculateGradients(x, labels, null, null).getSecond().data().asFloat();
        assertTrue(countZeros(g) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                g, 4 * 3, BlockGeometry.of(new int[] {14, 14}, new int[] {3}));
        MultiLayerNetwork plain = pooledNetwork(null, true);
        float[] undropped =
                plain.calculateGradients(x, labels, null, null).getSecond().data().asFloat();
        assertEquals(0, countZeros(undropped));
    }

    /**
     * (4, 3, 14, 14) in; a DropoutLayer with {@code dropout} or a 3x3 convolution with it as its
     * dropout; a sum over each map; a softmax output.
     */
    private static MultiLayerNetwork pooledNetwork(DropBlock dropout, boolean onConvolution) {
        NeuralNetConfiguration.ListBuilder list =
                new NeuralNetConfiguration.Builder().seed(7).updater(new Sgd(0.1)).list();
        if (onConvolution) {
            ConvolutionLayer.Builder conv =
                    new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(3);
            list.layer(dropout == null ? conv.build() : conv.dropOut(dropout).build());
        } else {
            list.layer(new DropoutLayer.Builder(dropout).build());
        }
        MultiLayerConfiguration conf =
                list.layer(new GlobalPoolingLayer.Builder(PoolingType.SUM).build())
                        .layer(
                                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                        .nOut(2)
                                        .activation(Activation.SOFTMAX)
                                        .build())
                        .setInputType(InputType.convolutional(14, 14, 3))
                        .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @ParameterizedTest
    @CsvSource({
        "FLOAT, HOST", "DOUBLE, HOST", "HALF, HOST", "BFLOAT16, HOST",
        "FLOAT, ND4J", "DOUBLE, ND4J", "HALF, ND4J", "BFLOAT16, ND4J"
    })
    void dataTypeIsKeptAndKeptUnitsCarryTheScale(DataType dataType, MaskPath path) {
        INDArray x = Nd4j.ones(dataType, 4, 8, 14, 14);
        INDArray y = forward(path.of(new DropBlock(0.8, 3)), x);
        assertEquals(dataType, y.dataType());
        assertArrayEquals(x.shape(), y.shape());
        double[] values = y.castTo(DataType.DOUBLE).data().asDouble();
        long kept = Arrays.stream(values).filter(v -> v != 0).count();
        // The batch scale count(M) / count_ones(M), rounded once to the data type.
        double scale = (double) values.length / kept;
        double eps;
        switch (dataType) {
            case DOUBLE:
                eps = 0;
                break;
            case FLOAT:
                eps = FLOAT_EPS;
                break;
            case HALF:
                eps = HALF_EPS;
                break;
            default:
                eps = BFLOAT16_EPS;
        }
        for (double v : values) {
            assertTrue(v == 0 || Math.abs(v - scale) <= eps * scale, v + " vs scale " + scale);
        }
        assertTrue(kept < values.length);
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5})
    void channelsLastDropsTheSameBlocksAsChannelsFirst(int rank) {
        long[] first = {2, 3, 9, 8, 7};
        first = Arrays.copyOf(first, rank);
        int[] toLast = new int[rank];
        for (int i = 1; i < rank - 1; i++) {
            toLast[i] = i + 1;
        }
        toLast[rank - 1] = 1;
        INDArray x = Nd4j.rand(DataType.FLOAT, first);
        INDArray xLast = x.permute(toLast).dup('c');
        DropBlock channelsFirst = new DropBlock(0.7, 3);
        Nd4j.getRandom().setSeed(99);
        INDArray expected = forward(channelsFirst, x).permute(toLast);
        Nd4j.getRandom().setSeed(99);
        DropBlock channelsLast = channelsFirst.withChannelsLast(true);
        INDArray y = forward(channelsLast, xLast);
        assertEquals(expected, y);
        INDArray upstream = Nd4j.ones(DataType.FLOAT, xLast.shape());
        INDArray gradient = channelsLast.backprop(upstream, upstream.ulike(), 0, 0);
        assertEquals(y.div(xLast), gradient);
    }

    @Test
    void scheduleGivesTheKeepProbOfEachIteration() {
        ISchedule schedule = KeepProbSchedule.linear(0.5, 10);
        DropBlock dropBlock = new DropBlock(schedule, 1);
        assertEquals(1.0, dropBlock.keepProbAt(0, 0));
        assertEquals(0.75, dropBlock.keepProbAt(5, 0));
        assertEquals(0.5, dropBlock.keepProbAt(20, 3));
        assertTrue(Double.isNaN(dropBlock.getKeepProb()));
        assertSame(schedule, dropBlock.getKeepProbSchedule());
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 1, 1, 1 << 16);
        assertSame(x, dropBlock.applyDropout(x, x.ulike(), 0, 0, NO_WORKSPACES));
        // Block 1 at keep 0.5: the drop rate of 2^16 units has a standard error of 0.002.
        double rate =
                (double) countZeros(dropBlock.applyDropout(x, x.ulike(), 10, 0, NO_WORKSPACES))
                        / x.length();
        assertEquals(0.5, rate, 0.01);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.5, 0.0, -0.1, Double.NaN})
    void badKeepProbIsRejectedNamingIt(double keepProb) {
        assertEquals(
                "keepProb must be in (0, 1], got " + keepProb,
                assertThrows(IllegalArgumentException.class, () -> new DropBlock(keepProb, 3))
                        .getMessage());
    }

    @Test
    void scheduleValueOutOfRangeIsRejectedAtTheIteration() {
        ISchedule zeroAt2 =
                new MapSchedule(ScheduleType.ITERATION, java.util.Map.of(0, 0.9, 2, 0.0));
        DropBlock dropBlock = new DropBlock(zeroAt2, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 1, 7, 7);
        dropBlock.applyDropout(x, x.ulike(), 1, 0, NO_WORKSPACES);
        assertEquals(
                "keepProbSchedule must give a keepProb in (0, 1], got 0.0 at iteration 2, epoch 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> dropBlock.applyDropout(x, x.ulike(), 2, 0, NO_WORKSPACES))
                        .getMessage());
        assertEquals(
                "keepProbSchedule must not be null, got null",
                assertThrows(IllegalArgumentException.class, () -> new DropBlock(null, 3))
                        .getMessage());
    }

    @Test
    void badBlockSizeIsRejectedNamingIt() {
        assertEquals(
                "blockSize must be >= 1, got [0]",
                assertThrows(IllegalArgumentException.class, () -> new DropBlock(0.9, 0))
                        .getMessage());
        assertEquals(
                "blockSize must be >= 1, got [3, -2]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new DropBlock(0.9, 3).withBlockSize(3, -2))
                        .getMessage());
        assertEquals(
                "blockSize must have at most 3 entries (1D, 2D or 3D), got [3, 3, 3, 3]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new DropBlock(0.9, 3).withBlockSize(3, 3, 3, 3))
                        .getMessage());
        assertEquals(
                "blockSize must have at least one entry, got null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new DropBlock(0.9, 3).withBlockSize((int[]) null))
                        .getMessage());
        DropBlock twoD = new DropBlock(0.9, 3).withBlockSize(3, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 1, 7);
        assertEquals(
                "blockSize must have 1 entry or one per spatial dimension (1 for input shape (1,"
                        + " 1, 7)), got [3, 3]",
                assertThrows(IllegalArgumentException.class, () -> forward(twoD, x)).getMessage());
    }

    @Test
    void nullModesAreRejected() {
        DropBlock dropBlock = new DropBlock(0.9, 3);
        String message =
                "gammaMode, scaleMode and maskSharing must not be null, got null, BATCH,"
                        + " PER_CHANNEL";
        assertEquals(
                message,
                assertThrows(IllegalArgumentException.class, () -> dropBlock.withGamma(null))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> dropBlock.withScale(null));
        assertThrows(IllegalArgumentException.class, () -> dropBlock.withMask(null));
    }

    @Test
    void badRankIsRejectedNamingTheShape() {
        DropBlock dropBlock = new DropBlock(0.9, 3);
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 2 with shape (4, 7)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> forward(dropBlock, Nd4j.ones(DataType.FLOAT, 4, 7)))
                        .getMessage());
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 6 with shape (1, 1,"
                        + " 2, 2, 2, 2)",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        forward(
                                                dropBlock,
                                                Nd4j.ones(DataType.FLOAT, 1, 1, 2, 2, 2, 2)))
                        .getMessage());
    }

    @Test
    void badResultArrayIsRejected() {
        DropBlock dropBlock = new DropBlock(0.9, 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 1, 7, 7);
        assertEquals(
                "resultArray must have a floating-point data type, got INT",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        dropBlock.applyDropout(
                                                x,
                                                Nd4j.zeros(DataType.INT, 1, 1, 7, 7),
                                                0,
                                                0,
                                                NO_WORKSPACES))
                        .getMessage());
        assertEquals(
                "resultArray must have the input's shape [1, 1, 7, 7], got [1, 1, 7, 6]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        dropBlock.applyDropout(
                                                x,
                                                Nd4j.zeros(DataType.FLOAT, 1, 1, 7, 6),
                                                0,
                                                0,
                                                NO_WORKSPACES))
                        .getMessage());
    }

    @Test
    void defaultsAreThePapersBestAndShown() {
        DropBlock dropBlock = new DropBlock(0.9, 7);
        assertEquals(0.9, dropBlock.getKeepProb());
        assertArrayEquals(new int[] {7}, dropBlock.getBlockSize());
        assertEquals(GammaMode.CALIBRATED, dropBlock.getGammaMode());
        assertEquals(ScaleMode.BATCH, dropBlock.getScaleMode());
        assertEquals(MaskSharing.PER_CHANNEL, dropBlock.getMaskSharing());
        assertFalse(dropBlock.isChannelsLast());
        assertEquals(
                "DropBlock(keepProb=0.9, blockSize=[7], gamma=CALIBRATED, scale=BATCH,"
                        + " mask=PER_CHANNEL)",
                dropBlock.toString());
        assertEquals(
                "DropBlock(keepProbSchedule=KeepProbSchedule.linear(0.9, 100), blockSize=[3, 5],"
                        + " gamma=PAPER, scale=EXPECTED, mask=PER_SAMPLE, channelsLast=true)",
                new DropBlock(KeepProbSchedule.linear(0.9, 100), 7)
                        .withBlockSize(3, 5)
                        .withGamma(GammaMode.PAPER)
                        .withScale(ScaleMode.EXPECTED)
                        .withMask(MaskSharing.PER_SAMPLE)
                        .withChannelsLast(true)
                        .toString());
    }

    @Test
    void optionsAreCopiesThatLeaveTheOriginalAlone() {
        DropBlock original = new DropBlock(0.9, 7);
        DropBlock paper = original.withGamma(GammaMode.PAPER);
        assertEquals(GammaMode.CALIBRATED, original.getGammaMode());
        assertEquals(GammaMode.PAPER, paper.getGammaMode());
        assertNotEquals(original, paper);
        assertEquals(original, paper.withGamma(GammaMode.CALIBRATED));
        assertEquals(original.hashCode(), paper.withGamma(GammaMode.CALIBRATED).hashCode());
    }

    @Test
    void cloneIsEqualAndSharesNoMask() {
        DropBlock original = new DropBlock(KeepProbSchedule.linear(0.8, 10), 3);
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 4, 14, 14);
        original.applyDropout(x, x.ulike(), 10, 0, NO_WORKSPACES);
        DropBlock copy = original.clone();
        assertNotSame(original, copy);
        assertEquals(original, copy);
        assertEquals(original.hashCode(), copy.hashCode());
        assertThrows(IllegalStateException.class, () -> copy.backprop(x, x.ulike(), 10, 0));
        original.backprop(x, x.ulike(), 10, 0);
    }

    @Test
    void blockFractionReplacesTheSizeAndIsShown() {
        DropBlock relative = new DropBlock(0.9, 7).withBlockFraction(0.25, 0.5);
        assertArrayEquals(new double[] {0.25, 0.5}, relative.getBlockFraction());
        assertEquals(null, relative.getBlockSize());
        assertEquals(
                "DropBlock(keepProb=0.9, blockFraction=[0.25, 0.5], gamma=CALIBRATED, scale=BATCH,"
                        + " mask=PER_CHANNEL, engineMask=true)",
                relative.withEngineMask(true).toString());
        assertEquals(new DropBlock(0.9, 5), relative.withBlockSize(5));
        assertNotEquals(relative, relative.withEngineMask(true));
        assertEquals(
                "blockFraction must be in (0, 1], got [0.0]",
                assertThrows(IllegalArgumentException.class, () -> relative.withBlockFraction(0.0))
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
        DropBlock dropBlock = path.of(new DropBlock(0.8, 3).withMask(sharing));
        INDArray x = Nd4j.ones(DataType.FLOAT, 4, 8, 14, 14);
        long zeros = 0;
        for (int i = 0; i < 3; i++) {
            zeros += countZeros(forward(dropBlock, x));
        }
        assertTrue(zeros > 0);
        assertEquals(new DropCount(3 * x.length(), zeros), dropBlock.takeDropCount());
        assertEquals(DropCount.NONE, dropBlock.takeDropCount());
        // A keep probability of 1 sees units and drops none.
        DropBlock identity = path.of(new DropBlock(1.0, 3));
        forward(identity, x);
        assertEquals(new DropCount(x.length(), 0), identity.takeDropCount());
    }

    @Test
    void takeDropCountSumsTheDropBlocksOfANetwork() {
        MultiLayerNetwork net = pooledNetwork(new DropBlock(0.7, 3), false);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 14, 14);
        INDArray dropped = net.feedForward(x, true).get(1);
        assertEquals(new DropCount(x.length(), countZeros(dropped)), DropBlock.takeDropCount(net));
        net.feedForward(x, false);
        assertEquals(DropCount.NONE, DropBlock.takeDropCount(net));
    }

    static long countZeros(INDArray y) {
        return countZeros(y.castTo(DataType.FLOAT).dup('c').data().asFloat());
    }

    static long countZeros(float[] values) {
        long zeros = 0;
        for (float v : values) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }
}
