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
import io.github.dropblock4j.core.DropBlockGamma;
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
    // 32 per-forward fractions over sqrt(32) (worst case 7x7, block 7, keep 0.95: 3 SE = 0.0011 <
    // 0.0015 in the DJL module's run); assertWithinStandardErrors asserts it rather than assuming.
    private static final int DRAWS = 32;
    private static final int UNITS_PER_DRAW = 1 << 20;
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

    static Stream<Arguments> grid() {
        Stream.Builder<Arguments> grid = Stream.builder();
        for (int size : new int[] {7, 14, 28, 56}) {
            for (int block : new int[] {1, 3, 5, 7}) {
                for (double keep : new double[] {0.95, 0.9, 0.8}) {
                    grid.add(Arguments.of(size, block, keep));
                }
            }
        }
        return grid.build();
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, keep {2}")
    @MethodSource("grid")
    void realisedDropRateMatchesRequest(int size, int block, double keep) {
        assertRealisedRate(new DropBlock(keep, block), size, 1 - keep);
    }

    static Stream<Arguments> nd4jGrid() {
        // The corners of the host grid: the smallest and a large map, point, odd and whole-map
        // blocks, the lightest and the heaviest drop.
        Stream.Builder<Arguments> grid = Stream.builder();
        for (int size : new int[] {7, 28}) {
            for (int block : new int[] {1, 3, 7}) {
                for (double keep : new double[] {0.95, 0.8}) {
                    grid.add(Arguments.of(size, block, keep));
                }
            }
        }
        return grid.build();
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, keep {2}")
    @MethodSource("nd4jGrid")
    void nd4jPathRealisesTheRequestedRate(int size, int block, double keep) {
        assertRealisedRate(MaskPath.ND4J.of(new DropBlock(keep, block)), size, 1 - keep);
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, keep {2}")
    @MethodSource("paperGrid")
    void nd4jPathRealisesThePaperModesExpectation(int size, int block, double keep) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double expected =
                g.expectedDropFraction(DropBlockGamma.gamma(g, 1 - keep, GammaMode.PAPER));
        assertRealisedRate(
                MaskPath.ND4J.of(new DropBlock(keep, block).withGamma(GammaMode.PAPER)),
                size,
                expected);
    }

    static Stream<Arguments> paperGrid() {
        return Stream.of(
                Arguments.of(7, 3, 0.9),
                Arguments.of(7, 7, 0.9),
                Arguments.of(14, 5, 0.8),
                Arguments.of(28, 7, 0.9),
                Arguments.of(56, 7, 0.95));
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, keep {2}")
    @MethodSource("paperGrid")
    void paperModeRealisesItsClosedFormExpectation(int size, int block, double keep) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double expected =
                g.expectedDropFraction(DropBlockGamma.gamma(g, 1 - keep, GammaMode.PAPER));
        assertRealisedRate(new DropBlock(keep, block).withGamma(GammaMode.PAPER), size, expected);
    }

    private static void assertRealisedRate(DropBlock dropBlock, int size, double target) {
        int channels = Math.max(1, UNITS_PER_DRAW / (size * size * 8));
        INDArray x = Nd4j.ones(DataType.FLOAT, 8, channels, size, size);
        double[] rates = new double[DRAWS];
        for (int d = 0; d < DRAWS; d++) {
            rates[d] = (double) countZeros(forward(dropBlock, x)) / x.length();
        }
        assertWithinStandardErrors(rates, target, RELATIVE_TOLERANCE * target);
    }

    @ParameterizedTest
    @CsvSource({"BATCH, HOST", "BATCH, ND4J", "EXPECTED, HOST", "EXPECTED, ND4J"})
    void outputMeanMatchesInputMean(ScaleMode scale, MaskPath path) {
        DropBlock dropBlock = path.of(new DropBlock(0.8, 5).withScale(scale));
        int draws = 200;
        double[] ratios = new double[draws];
        for (int d = 0; d < draws; d++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 16, 32, 14, 14).addi(0.5);
            ratios[d] =
                    forward(dropBlock, x).sumNumber().doubleValue() / x.sumNumber().doubleValue();
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
        DropBlock dropBlock = path.of(new DropBlock(0.7, 1).withBlockSize(block));
        float[] y = forward(dropBlock, Nd4j.ones(DataType.FLOAT, shape)).data().asFloat();
        assertTrue(countZeros(y) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                y, (int) (shape[0] * shape[1]), BlockGeometry.of(spatial(shape), block));
    }

    @ParameterizedTest
    @EnumSource(MaskPath.class)
    void blockAsLargeAsTheMapDropsWholeChannelsOrNothing(MaskPath path) {
        float[] y =
                forward(path.of(new DropBlock(0.7, 7)), Nd4j.ones(DataType.FLOAT, 16, 64, 7, 7))
                        .data()
                        .asFloat();
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

    @Test
    void blockSizeOneIsElementDropout() {
        // Neighbours drop independently: both zero with probability p^2, not p as in a block.
        // Over n = 64 * 64 * 63 * 64 horizontal pairs the standard error of that frequency is
        // sqrt(p^2 (1 - p^2) / n) = 7.8e-5 for p = 0.1; the tolerance is 4 of those.
        float[] y =
                forward(new DropBlock(0.9, 1), Nd4j.ones(DataType.FLOAT, 64, 64, 64, 64))
                        .data()
                        .asFloat();
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
    @EnumSource(MaskPath.class)
    void sameNd4jSeedGivesSameMasks(MaskPath path) {
        DropBlock dropBlock = path.of(new DropBlock(0.9, 5));
        INDArray x = Nd4j.ones(DataType.FLOAT, 4, 16, 28, 28);
        Nd4j.getRandom().setSeed(42);
        INDArray first = forward(dropBlock, x);
        Nd4j.getRandom().setSeed(42);
        INDArray again = forward(dropBlock, x);
        Nd4j.getRandom().setSeed(43);
        INDArray other = forward(dropBlock, x);
        assertEquals(first, again);
        assertNotEquals(first, other);
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
    @EnumSource(MaskPath.class)
    void perSampleMaskIsSharedByAllChannelsOfASample(MaskPath path) {
        float[] y = forwardWithSharing(MaskSharing.PER_SAMPLE, path);
        int plane = 14 * 14;
        for (int n = 0; n < 4; n++) {
            for (int c = 1; c < 8; c++) {
                assertTrue(
                        Arrays.equals(
                                y,
                                n * 8 * plane,
                                (n * 8 + 1) * plane,
                                y,
                                (n * 8 + c) * plane,
                                (n * 8 + c + 1) * plane),
                        "sample " + n + ", channel " + c);
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
                assertTrue(
                        Arrays.equals(
                                y,
                                c * plane,
                                (c + 1) * plane,
                                y,
                                (n * 8 + c) * plane,
                                (n * 8 + c + 1) * plane),
                        "sample " + n + ", channel " + c);
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

    private static float[] forwardWithSharing(MaskSharing sharing, MaskPath path) {
        DropBlock dropBlock = path.of(new DropBlock(0.7, 3).withMask(sharing));
        return forward(dropBlock, Nd4j.ones(DataType.FLOAT, 4, 8, 14, 14)).data().asFloat();
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
        DropBlock dropBlock = path.of(new DropBlock(0.9, 7).withBlockFraction(fraction));
        assertRealisedRate(dropBlock, size, 0.1);
        float[] y =
                forward(dropBlock, Nd4j.ones(DataType.FLOAT, 4, 8, size, size)).data().asFloat();
        assertTrue(countZeros(y) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                y, 4 * 8, BlockGeometry.of(new int[] {size, size}, new int[] {block}));
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

    private static int[] spatial(long[] shape) {
        int[] spatial = new int[shape.length - 2];
        for (int i = 0; i < spatial.length; i++) {
            spatial[i] = (int) shape[i + 2];
        }
        return spatial;
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
