package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.core.contract.ForkedJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.nativeblas.Nd4jCpu;

/**
 * The build runs every test JVM as the application runs DL4J: ND4J's oneDNN library and DL4J's
 * helpers on (the surefire settings of the root pom). These tests check that the helpers really
 * engage, that they compute what DL4J's built-in layers compute, and that a JVM where they cannot
 * engage is told why.
 */
class OneDnnTest {

    /**
     * How far the helpers' results may lie from DL4J's built-in layers', relative to the largest
     * magnitude of the compared array. Both compute in float32 and differ only in the order of
     * their sums: a sum of K products reordered moves by at most gamma_K = K u / (1 - K u) of the
     * sum of their magnitudes (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), with u
     * = 2^-24. The widest sum here is the second convolution's K = 8 * 3 * 3 = 72, so gamma_K =
     * 4.3e-6; batch normalization divides by a standard deviation that the same rounding moves, and
     * the backward pass goes through both convolutions and both batch norms again, so the bound is
     * taken ten times over: 1e-4 is 23 gamma_K. A helper that computed anything else (a different
     * epsilon, padding or batch statistic) misses it by orders of magnitude. Seen: 2.2e-7 on the
     * training output and 5.9e-7 on the gradient, so the helpers did run, and summed in another
     * order.
     */
    private static final double REL_TOL = 1e-4;

    private static final long SEED = 42;

    @Test
    void thisJvmHasTheHelpersOn() {
        assertEquals(Optional.empty(), OneDnn.whyOff());
        assertTrue(OneDnn.inNativeLibrary());
        assertTrue(Nd4jCpu.Environment.getInstance().isUseMKLDNN());
    }

    @ParameterizedTest
    @ValueSource(ints = {20, 50})
    void everyConvolutionAndBatchNormOfTheResNetGetsItsOneDnnHelper(int depth) {
        ComputationGraph net =
                new ComputationGraph(
                        ResNetDropBlock.builder()
                                .setNumLayers(depth)
                                .setOutSize(10)
                                .setImageShape(3, 32, 32)
                                .build());
        net.init();
        int convolutions = 0;
        int batchNorms = 0;
        for (Layer layer : net.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) {
                convolutions++;
                assertInstanceOf(MKLDNNConvHelper.class, layer.getHelper(), name);
            } else if (layer
                    instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization) {
                batchNorms++;
                assertInstanceOf(MKLDNNBatchNormHelper.class, layer.getHelper(), name);
            }
        }
        // A stem convolution, two per basic block or three per bottleneck, one per projection.
        int expected = depth == 20 ? 1 + 9 * 2 + 2 : 1 + 16 * 3 + 4;
        assertEquals(expected, convolutions);
        assertEquals(expected, batchNorms);
        assertEquals(List.of(), OneDnn.layersWithoutHelper(net));
        assertEquals(
                "oneDNN: on ("
                        + 2 * expected
                        + " of "
                        + 2 * expected
                        + " convolution and batch-norm layers)",
                OneDnn.describe(net));
    }

    @Test
    void helpersComputeWhatDl4jsBuiltInLayersCompute() {
        MultiLayerNetwork builtIn = withHelpersDisabled(() -> smallNetwork());
        MultiLayerNetwork oneDnn = smallNetwork();
        oneDnn.setParams(builtIn.params());
        assertEquals(List.of("conv1", "bn1", "conv2", "bn2"), OneDnn.layersWithoutHelper(builtIn));
        assertEquals(List.of(), OneDnn.layersWithoutHelper(oneDnn));

        Nd4j.getRandom().setSeed(SEED);
        INDArray input = Nd4j.randn(6, 3, 12, 12);
        INDArray labels = Nd4j.eye(2).repeat(0, 3);

        // Training mode: batch statistics, and DropBlock's mask drawn from the same seed.
        assertClose("training output", forward(builtIn, input, true), forward(oneDnn, input, true));
        assertClose("gradient", gradient(builtIn, input, labels), gradient(oneDnn, input, labels));
        assertEquals(score(builtIn, input, labels), score(oneDnn, input, labels), REL_TOL);
        // Inference: the running statistics the training forwards above updated, and no mask.
        assertClose(
                "inference output", forward(builtIn, input, false), forward(oneDnn, input, false));
    }

    @Test
    void disabledHelpersAreNamedInOneLine() {
        MultiLayerNetwork net = withHelpersDisabled(() -> smallNetwork());
        String why = withHelpersDisabled(() -> OneDnn.whyOff().orElseThrow());
        assertEquals(
                "DL4J's layer helpers are disabled (org.eclipse.deeplearning4j.helpers.disable is"
                        + " true); call OneDnn.enable() first, or set it to false",
                why);
        // Once the property is back, the line names what it was when the network was built: no
        // helper, and nothing wrong now; a network built now would get them.
        assertEquals(
                "oneDNN: off (0 of 4 convolution and batch-norm layers), DL4J runs its several times"
                        + " slower built-in layers: DL4J turned down the helper for every layer",
                OneDnn.describe(net));
        String line = withHelpersDisabled(() -> OneDnn.describe(net));
        assertEquals(
                "oneDNN: off (0 of 4 convolution and batch-norm layers), DL4J runs its several times"
                        + " slower built-in layers: "
                        + why,
                line);
        assertEquals(1, line.lines().count());
    }

    @Test
    void enableSetsOnlyWhatTheUserHasNotSet() {
        String extension = System.getProperty(OneDnn.PLATFORM_EXTENSION);
        String disable = System.getProperty(OneDnn.HELPERS_DISABLE);
        try {
            System.clearProperty(OneDnn.PLATFORM_EXTENSION);
            System.clearProperty(OneDnn.HELPERS_DISABLE);
            OneDnn.enable();
            assertEquals("-onednn", System.getProperty(OneDnn.PLATFORM_EXTENSION));
            assertEquals("false", System.getProperty(OneDnn.HELPERS_DISABLE));

            System.setProperty(OneDnn.PLATFORM_EXTENSION, "-avx512");
            System.setProperty(OneDnn.HELPERS_DISABLE, "true");
            OneDnn.enable();
            assertEquals("-avx512", System.getProperty(OneDnn.PLATFORM_EXTENSION));
            assertEquals("true", System.getProperty(OneDnn.HELPERS_DISABLE));
        } finally {
            restore(OneDnn.PLATFORM_EXTENSION, extension);
            restore(OneDnn.HELPERS_DISABLE, disable);
        }
    }

    @Test
    void anUninitializedNetworkIsRejected() {
        ComputationGraph graph =
                new ComputationGraph(
                        ResNetDropBlock.builder()
                                .setNumLayers(20)
                                .setOutSize(10)
                                .setImageShape(1, 28, 28)
                                .build());
        assertEquals(
                "net must be initialized (init()) before its helpers are checked, got an"
                        + " uninitialized ComputationGraph",
                assertThrows(IllegalArgumentException.class, () -> OneDnn.describe(graph))
                        .getMessage());
        assertEquals(
                "net must not be null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> OneDnn.layersWithoutHelper((MultiLayerNetwork) null))
                        .getMessage());
    }

    /**
     * ND4J's plain native library, which a JVM loads when it does not ask for the oneDNN one: the
     * helpers stay off, DL4J's check through the forwarding class says so, and the line names the
     * library and the fix. A fresh JVM, because a JVM loads ND4J's native library once.
     */
    @Test
    void aNativeLibraryWithoutOneDnnIsNamed(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        ForkedJvm.run(
                PlainLibrary.class,
                List.of(
                        "-Xmx1g",
                        "-D" + OneDnn.PLATFORM_EXTENSION + "=",
                        "-D" + OneDnn.HELPERS_DISABLE + "=false"),
                Duration.ofMinutes(3),
                log);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(output.contains("isUseMKLDNN=false\n"), output);
        assertTrue(
                output.contains(
                        "oneDNN: off (0 of 4 convolution and batch-norm layers), DL4J runs its"
                                + " several times slower built-in layers: ND4J's native library"
                                + " is built without oneDNN; put nd4j-native's linux-x86_64-onednn"
                                + " classifier on the class path and set"
                                + " -Dorg.bytedeco.javacpp.platform.extension=-onednn (or call"
                                + " OneDnn.enable()) before ND4J is first used\n"),
                output);
    }

    /** The child JVM of {@link #aNativeLibraryWithoutOneDnnIsNamed}. */
    static final class PlainLibrary {
        public static void main(String[] args) {
            // Keeps the empty extension the parent set: the plain library.
            OneDnn.enable();
            MultiLayerNetwork net = smallNetwork();
            System.out.println("isUseMKLDNN=" + Nd4jCpu.Environment.getInstance().isUseMKLDNN());
            System.out.println(OneDnn.describe(net));
        }
    }

    /** Two convolutions with batch norms, DropBlock between them, and a softmax on two classes. */
    private static MultiLayerNetwork smallNetwork() {
        MultiLayerNetwork net =
                new MultiLayerNetwork(
                        new NeuralNetConfiguration.Builder()
                                .seed(SEED)
                                .updater(new Sgd(0.1))
                                .convolutionMode(ConvolutionMode.Same)
                                .list()
                                .layer(
                                        new ConvolutionLayer.Builder(3, 3)
                                                .name("conv1")
                                                .nOut(8)
                                                .hasBias(false)
                                                .activation(Activation.IDENTITY)
                                                .build())
                                .layer(new BatchNormalization.Builder().name("bn1").build())
                                .layer(new ActivationLayer(Activation.RELU))
                                .layer(new DropoutLayer.Builder(new DropBlock(0.8, 3)).build())
                                .layer(
                                        new ConvolutionLayer.Builder(3, 3)
                                                .name("conv2")
                                                .nOut(8)
                                                .stride(2, 2)
                                                .activation(Activation.IDENTITY)
                                                .build())
                                .layer(new BatchNormalization.Builder().name("bn2").build())
                                .layer(new ActivationLayer(Activation.RELU))
                                .layer(new GlobalPoolingLayer.Builder().build())
                                .layer(
                                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                                .nOut(2)
                                                .activation(Activation.SOFTMAX)
                                                .build())
                                .setInputType(InputType.convolutional(12, 12, 3))
                                .build());
        net.init();
        return net;
    }

    private static INDArray forward(MultiLayerNetwork net, INDArray input, boolean training) {
        Nd4j.getRandom().setSeed(SEED);
        return net.output(input, training).dup();
    }

    private static INDArray gradient(MultiLayerNetwork net, INDArray input, INDArray labels) {
        net.setInput(input);
        net.setLabels(labels);
        Nd4j.getRandom().setSeed(SEED);
        net.computeGradientAndScore();
        return net.gradient().gradient().dup();
    }

    private static double score(MultiLayerNetwork net, INDArray input, INDArray labels) {
        gradient(net, input, labels);
        return net.score();
    }

    private static void assertClose(String what, INDArray expected, INDArray actual) {
        double scale = Math.max(expected.amaxNumber().doubleValue(), Double.MIN_NORMAL);
        double worst = expected.sub(actual).amaxNumber().doubleValue() / scale;
        assertTrue(
                worst <= REL_TOL,
                what + ": largest difference " + worst + " of the largest magnitude " + scale);
    }

    private static <T> T withHelpersDisabled(Supplier<T> body) {
        String before = System.getProperty(OneDnn.HELPERS_DISABLE);
        System.setProperty(OneDnn.HELPERS_DISABLE, "true");
        try {
            return body.get();
        } finally {
            restore(OneDnn.HELPERS_DISABLE, before);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
