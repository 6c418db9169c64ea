package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.dl4j.DropoutPlacement.Issue;
import io.github.dropblock4j.dl4j.DropoutPlacement.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.Deconvolution3D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling1DLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling3DLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling1D;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPadding1DLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPadding3DLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping1D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class DropoutPlacementTest {

    /** What a layer did with its dropout during one training step. */
    enum Observed {
        NOT_CALLED,
        FORWARD_ONLY,
        BACKWARD_IN_ANOTHER_SHAPE,
        BOTH_WAYS
    }

    /** A dropout that passes its input through and records the shapes it is called with. */
    static final class RecordingDropout implements IDropout {
        private static final long serialVersionUID = 1L;
        final transient List<long[]> forwards = new ArrayList<>();
        final transient List<long[]> backwards = new ArrayList<>();

        @Override
        public INDArray applyDropout(
                INDArray input, INDArray result, int iteration, int epoch, LayerWorkspaceMgr mgr) {
            forwards.add(input.shape());
            return result.assign(input);
        }

        @Override
        public INDArray backprop(INDArray gradAtOutput, INDArray gradAtInput, int it, int ep) {
            backwards.add(gradAtOutput.shape());
            return gradAtInput.assign(gradAtOutput);
        }

        @Override
        public void clear() {}

        @Override
        public IDropout clone() {
            // Shared, so that the test sees the calls on the layer's copy.
            return this;
        }

        Observed observed() {
            if (forwards.isEmpty()) {
                return Observed.NOT_CALLED;
            }
            if (backwards.isEmpty()) {
                return Observed.FORWARD_ONLY;
            }
            return Arrays.equals(forwards.get(0), backwards.get(0))
                    ? Observed.BOTH_WAYS
                    : Observed.BACKWARD_IN_ANOTHER_SHAPE;
        }

        @Override
        public String toString() {
            return "RecordingDropout";
        }
    }

    private static final InputType CNN = InputType.convolutional(6, 5, 3);
    private static final long[] CNN_SHAPE = {2, 3, 6, 5};
    private static final InputType CNN_NHWC = InputType.convolutional(6, 5, 3, CNN2DFormat.NHWC);
    private static final long[] CNN_NHWC_SHAPE = {2, 6, 5, 3};
    private static final InputType SEQUENCE = InputType.recurrent(3, 8);
    private static final long[] SEQUENCE_SHAPE = {2, 3, 8};
    private static final InputType VOLUME = InputType.convolutional3D(4, 4, 4, 3);
    private static final long[] VOLUME_SHAPE = {2, 3, 4, 4, 4};

    static Stream<Arguments> layers() {
        return Stream.of(
                // Never applied.
                layer(d -> new BatchNormalization.Builder().dropOut(d).build(), CNN, CNN_SHAPE),
                layer(d -> new SubsamplingLayer.Builder(2, 2).dropOut(d).build(), CNN, CNN_SHAPE),
                layer(
                        d -> new Subsampling1DLayer.Builder(2).dropOut(d).build(),
                        SEQUENCE,
                        SEQUENCE_SHAPE),
                layer(d -> new GlobalPoolingLayer.Builder().dropOut(d).build(), CNN, CNN_SHAPE),
                layer(
                        d -> new LocalResponseNormalization.Builder().dropOut(d).build(),
                        CNN,
                        CNN_SHAPE),
                layer(
                        d ->
                                new ActivationLayer.Builder()
                                        .activation(Activation.RELU)
                                        .dropOut(d)
                                        .build(),
                        CNN,
                        CNN_SHAPE),
                layer(d -> new ZeroPaddingLayer.Builder(1, 1).dropOut(d).build(), CNN, CNN_SHAPE),
                layer(
                        d -> new ZeroPadding1DLayer.Builder(1).dropOut(d).build(),
                        SEQUENCE,
                        SEQUENCE_SHAPE),
                layer(
                        d -> new ZeroPadding3DLayer.Builder(1, 1, 1).dropOut(d).build(),
                        VOLUME,
                        VOLUME_SHAPE),
                layer(d -> new Cropping1D.Builder(1).dropOut(d).build(), SEQUENCE, SEQUENCE_SHAPE),
                // Applied in the forward only.
                layer(
                        d -> new Convolution1DLayer.Builder(3).nOut(4).dropOut(d).build(),
                        SEQUENCE,
                        SEQUENCE_SHAPE),
                layer(
                        d -> new Convolution3D.Builder(3, 3, 3).nOut(4).dropOut(d).build(),
                        VOLUME,
                        VOLUME_SHAPE),
                layer(
                        d -> new Deconvolution2D.Builder(3, 3).nOut(4).dropOut(d).build(),
                        CNN,
                        CNN_SHAPE),
                layer(
                        d ->
                                new Deconvolution3D.Builder()
                                        .kernelSize(2, 2, 2)
                                        .nOut(4)
                                        .dropOut(d)
                                        .build(),
                        VOLUME,
                        VOLUME_SHAPE),
                layer(
                        d ->
                                new SpaceToDepthLayer.Builder(2, SpaceToDepthLayer.DataFormat.NCHW)
                                        .dropOut(d)
                                        .build(),
                        InputType.convolutional(6, 4, 3),
                        new long[] {2, 3, 6, 4}),
                layer(
                        d -> new Upsampling1D.Builder(2).dropOut(d).build(),
                        SEQUENCE,
                        SEQUENCE_SHAPE),
                // Backward in NCHW after a forward in NHWC.
                layer(
                        d ->
                                new ConvolutionLayer.Builder(3, 3)
                                        .nOut(4)
                                        .dataFormat(CNN2DFormat.NHWC)
                                        .dropOut(d)
                                        .build(),
                        CNN_NHWC,
                        CNN_NHWC_SHAPE),
                // Applied both ways, in the same layout.
                layer(
                        d -> new ConvolutionLayer.Builder(3, 3).nOut(4).dropOut(d).build(),
                        CNN,
                        CNN_SHAPE),
                layer(
                        d ->
                                new SeparableConvolution2D.Builder(3, 3)
                                        .nOut(4)
                                        .dataFormat(CNN2DFormat.NHWC)
                                        .dropOut(d)
                                        .build(),
                        CNN_NHWC,
                        CNN_NHWC_SHAPE),
                layer(
                        d ->
                                new DepthwiseConvolution2D.Builder(3, 3)
                                        .depthMultiplier(1)
                                        .dropOut(d)
                                        .build(),
                        CNN,
                        CNN_SHAPE),
                layer(d -> new Upsampling2D.Builder(2).dropOut(d).build(), CNN, CNN_SHAPE),
                layer(
                        d -> new Subsampling3DLayer.Builder(2, 2, 2).dropOut(d).build(),
                        VOLUME,
                        VOLUME_SHAPE),
                layer(d -> new DropoutLayer.Builder(d).build(), CNN_NHWC, CNN_NHWC_SHAPE),
                layer(
                        d -> new DenseLayer.Builder().nOut(4).dropOut(d).build(),
                        InputType.feedForward(5),
                        new long[] {2, 5}));
    }

    /**
     * Initialises a network on DL4J's own layer implementations. The tests run with the oneDNN
     * helpers on, and the oneDNN convolution back-propagates an NHWC input's dropout correctly;
     * {@link DropoutPlacement} describes DL4J's fallback path, which every layer takes without
     * oneDNN. DL4J reads the helpers property whenever a layer creates its helper.
     */
    private static void initWithoutHelpers(MultiLayerNetwork net) {
        String before = System.getProperty(OneDnn.HELPERS_DISABLE);
        System.setProperty(OneDnn.HELPERS_DISABLE, "true");
        try {
            net.init();
        } finally {
            if (before == null) {
                System.clearProperty(OneDnn.HELPERS_DISABLE);
            } else {
                System.setProperty(OneDnn.HELPERS_DISABLE, before);
            }
        }
    }

    private static Arguments layer(
            Function<IDropout, Layer> layer, InputType inputType, long[] shape) {
        return Arguments.of(layer, inputType, shape);
    }

    @ParameterizedTest
    @MethodSource("layers")
    void reportMatchesWhatDl4jDoesWithTheDropout(
            Function<IDropout, Layer> layer, InputType inputType, long[] shape) {
        RecordingDropout dropout = new RecordingDropout();
        NeuralNetConfiguration.ListBuilder list =
                new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1)).list();
        list.layer(layer.apply(dropout));
        if (shape.length > 2) {
            list.layer(new GlobalPoolingLayer.Builder().build());
        }
        MultiLayerConfiguration conf =
                list.layer(
                                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                        .nOut(2)
                                        .activation(Activation.SOFTMAX)
                                        .build())
                        .setInputType(inputType)
                        .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        initWithoutHelpers(net);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, shape[0], 2);
        labels.getColumn(0).assign(1);
        net.fit(new DataSet(Nd4j.rand(DataType.FLOAT, shape), labels));

        Observed observed = dropout.observed();
        List<Issue> issues = DropoutPlacement.check(conf);
        Kind reported = issues.isEmpty() ? null : issues.get(0).kind();
        String layerType = conf.getConf(0).getLayer().getClass().getSimpleName();
        switch (observed) {
            case NOT_CALLED:
                assertEquals(Kind.IGNORED, reported, layerType);
                break;
            case FORWARD_ONLY:
                assertEquals(Kind.GRADIENT_NOT_MASKED, reported, layerType);
                break;
            case BACKWARD_IN_ANOTHER_SHAPE:
                assertEquals(Kind.NHWC_CONVOLUTION, reported, layerType);
                break;
            default:
                assertEquals(List.of(), issues, layerType);
        }
        assertTrue(issues.size() <= 1);
    }

    @Test
    void batchNormDropoutIsReportedWithNameAndAdvice() {
        MultiLayerConfiguration conf =
                new NeuralNetConfiguration.Builder()
                        .list()
                        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).build())
                        .layer(
                                new BatchNormalization.Builder()
                                        .name("bn1")
                                        .dropOut(new DropBlock(0.9, 7))
                                        .build())
                        .layer(new OutputLayer.Builder().nOut(2).build())
                        .setInputType(CNN)
                        .build();
        List<Issue> issues = DropoutPlacement.check(conf);
        assertEquals(1, issues.size());
        Issue issue = issues.get(0);
        assertEquals("bn1", issue.layer());
        assertEquals("BatchNormalization", issue.layerType());
        assertEquals(Kind.IGNORED, issue.kind());
        String message =
                "layer bn1 (BatchNormalization) has dropout DropBlock(keepProb=0.9, blockSize=[7],"
                        + " gamma=CALIBRATED, scale=BATCH, mask=PER_CHANNEL), which DL4J never"
                        + " applies there; put a DropoutLayer after it";
        assertEquals(message, issue.message());
        assertEquals(
                "dropout placement: " + message,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropoutPlacement.requireValid(conf))
                        .getMessage());
    }

    @Test
    void unnamedLayersAreNamedByIndexAndEveryIssueIsListed() {
        MultiLayerConfiguration conf =
                new NeuralNetConfiguration.Builder()
                        .dropOut(new DropBlock(0.9, 3))
                        .list()
                        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).build())
                        .layer(new SubsamplingLayer.Builder(2, 2).build())
                        .layer(new BatchNormalization.Builder().build())
                        .layer(new OutputLayer.Builder().nOut(2).dropOut(0.0).build())
                        .setInputType(CNN)
                        .build();
        List<Issue> issues = DropoutPlacement.check(conf);
        assertEquals(List.of("layer1", "layer2"), issues.stream().map(Issue::layer).toList());
        assertEquals(
                List.of(Kind.IGNORED, Kind.IGNORED), issues.stream().map(Issue::kind).toList());
    }

    @Test
    void channelsLayoutOfADropBlockMustMatchItsLayer() {
        MultiLayerConfiguration conf =
                new NeuralNetConfiguration.Builder()
                        .list()
                        .layer(
                                new ConvolutionLayer.Builder(3, 3)
                                        .nOut(4)
                                        .dropOut(new DropBlock(0.9, 3).withChannelsLast(true))
                                        .build())
                        .layer(
                                new SeparableConvolution2D.Builder(3, 3)
                                        .nOut(4)
                                        .dropOut(new DropBlock(0.9, 3))
                                        .build())
                        .layer(
                                new Upsampling2D.Builder(2)
                                        .dropOut(new DropBlock(0.9, 3).withChannelsLast(true))
                                        .build())
                        .layer(new OutputLayer.Builder().nOut(2).build())
                        .setInputType(CNN)
                        .build();
        List<Issue> issues = DropoutPlacement.check(conf);
        assertEquals(List.of("layer0", "layer2"), issues.stream().map(Issue::layer).toList());
        assertEquals(
                List.of(Kind.LAYOUT_MISMATCH, Kind.LAYOUT_MISMATCH),
                issues.stream().map(Issue::kind).toList());
        assertTrue(
                issues.get(0)
                        .message()
                        .endsWith("whose channelsLast does not match the layer's data format"));
    }

    @Test
    void graphVerticesAreCheckedByName() {
        ComputationGraphConfiguration conf =
                new NeuralNetConfiguration.Builder()
                        .graphBuilder()
                        .addInputs("in")
                        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "in")
                        .addLayer(
                                "bn",
                                new BatchNormalization.Builder()
                                        .dropOut(new DropBlock(0.9, 3))
                                        .build(),
                                "conv")
                        .addLayer(
                                "drop",
                                new DropoutLayer.Builder(new DropBlock(0.9, 3)).build(),
                                "bn")
                        .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "drop")
                        .addLayer("out", new OutputLayer.Builder().nOut(2).build(), "pool")
                        .setOutputs("out")
                        .setInputTypes(CNN)
                        .build();
        List<Issue> issues = DropoutPlacement.check(conf);
        assertEquals(1, issues.size());
        assertEquals("bn", issues.get(0).layer());
        assertThrows(IllegalArgumentException.class, () -> DropoutPlacement.requireValid(conf));
    }

    @Test
    void theRecipesPlacementPasses() {
        ComputationGraphConfiguration conf =
                new NeuralNetConfiguration.Builder()
                        .graphBuilder()
                        .addInputs("in")
                        .addLayer(
                                "conv",
                                new ConvolutionLayer.Builder(3, 3)
                                        .nOut(4)
                                        .dropOut(new DropBlock(0.9, 3))
                                        .build(),
                                "in")
                        .addLayer("bn", new BatchNormalization.Builder().build(), "conv")
                        .addLayer(
                                "drop",
                                new DropoutLayer.Builder(new DropBlock(0.9, 3)).build(),
                                "bn")
                        .addLayer("out", new OutputLayer.Builder().nOut(2).build(), "drop")
                        .setOutputs("out")
                        .setInputTypes(CNN)
                        .build();
        assertEquals(List.of(), DropoutPlacement.check(conf));
        assertSame(conf, DropoutPlacement.requireValid(conf));
    }
}
