package io.github.dropblock4j.dl4j;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Turns on the oneDNN helpers of Deeplearning4j 1.0.0-M2 on the CPU, and checks that a network
 * really uses them. Without them every convolution and batch normalization runs DL4J's built-in
 * code (im2col, strided copies, gemm, and a backward pass that repeats the forward), 5 to 7 times
 * slower on a ResNet-20 (docs/performance.md).
 *
 * <p>Three defects of DL4J 1.0.0-M2 keep the helpers off, and each alone is enough:
 *
 * <ol>
 *   <li>DL4J creates no layer helper unless the system property {@value #HELPERS_DISABLE} is {@code
 *       false}; its default is {@code true}.
 *   <li>ND4J's default native library, {@code nd4j-native} with classifier {@code linux-x86_64}, is
 *       built without oneDNN. The {@code linux-x86_64-onednn} classifier has it, and JavaCPP loads
 *       it when the system property {@value #PLATFORM_EXTENSION} is {@value #ONEDNN_EXTENSION}
 *       before ND4J first loads its native library (it falls back to the default library when the
 *       oneDNN one is not on the class path).
 *   <li>DL4J asks whether oneDNN is in use through a class that ND4J 1.0.0-M2 no longer has, {@code
 *       org.nd4j.nativeblas.Nd4jCpu$Environment}, and takes the missing class for "no". This
 *       library ships a class of that name that forwards the question to ND4J ({@link
 *       org.nd4j.nativeblas.Nd4jCpu}).
 * </ol>
 *
 * <p>{@link #enable()} fixes the first two for a program that calls it before it first uses ND4J;
 * the library's jar fixes the third. A DL4J user calls it once, first thing in {@code main}, and
 * then {@link #describe(ComputationGraph)} to see that the network uses the helpers.
 *
 * <p>Nothing here turns the helpers on behind a user's back: the DL4J classes of this library work
 * the same with the helpers on or off, and only {@link #enable()} changes a setting. With them on,
 * convolutions and batch normalizations sum in oneDNN's order instead of DL4J's, so results agree
 * with those of the built-in code to float rounding, not bit for bit ({@code OneDnnTest} bounds the
 * difference). The checks are thread safe; {@link #enable()} sets system properties.
 */
public final class OneDnn {

    /** The system property that disables every DL4J layer helper unless it is {@code false}. */
    public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

    /** The system property that makes JavaCPP prefer native libraries built with an extension. */
    public static final String PLATFORM_EXTENSION = "org.bytedeco.javacpp.platform.extension";

    /** The extension of ND4J's native library with oneDNN. */
    public static final String ONEDNN_EXTENSION = "-onednn";

    // What a libnd4j built with oneDNN lists in its build information.
    private static final String BUILD_FLAG = "HAVE_ONEDNN";
    private static final String ND4J_ENVIRONMENT =
            "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";

    private OneDnn() {}

    /**
     * Asks DL4J to use its oneDNN helpers, and JavaCPP to load ND4J's native library with oneDNN:
     * sets {@value #HELPERS_DISABLE} to {@code false} and {@value #PLATFORM_EXTENSION} to {@value
     * #ONEDNN_EXTENSION}, each only if it is not set already, so that a user's own {@code -D}
     * option wins (for instance {@code -Dorg.eclipse.deeplearning4j.helpers.disable=true} to
     * compare against DL4J's built-in layers).
     *
     * <p>Call it before the first use of ND4J: the native library is loaded once, and DL4J decides
     * on a layer's helper when the network is initialized. Loads nothing itself. JavaCPP applies
     * the extension to every native library it loads afterwards, and loads the plain build of
     * those that have no oneDNN one (OpenBLAS, for one).
     */
    public static void enable() {
        System.getProperties().putIfAbsent(PLATFORM_EXTENSION, ONEDNN_EXTENSION);
        System.getProperties().putIfAbsent(HELPERS_DISABLE, "false");
    }

    /**
     * Returns why a network initialized now would not get its oneDNN helpers, or empty if it would.
     * Loads ND4J's native library if it is not loaded yet.
     *
     * @return the first reason found, one sentence with its remedy; empty when the helpers are on
     */
    public static Optional<String> whyOff() {
        String disable = System.getProperty(HELPERS_DISABLE, "true");
        if (!"false".equalsIgnoreCase(disable)) {
            return Optional.of(
                    "DL4J's layer helpers are disabled ("
                            + HELPERS_DISABLE
                            + " is "
                            + disable
                            + (System.getProperty(HELPERS_DISABLE) == null
                                    ? ", DL4J 1.0.0-M2's default"
                                    : "")
                            + "); call OneDnn.enable() first, or set it to false");
        }
        String backend = Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend");
        if (!"CPU".equalsIgnoreCase(backend)) {
            return Optional.of("ND4J's backend is " + backend + ", and oneDNN serves the CPU one");
        }
        if (!nativeBuildHasOneDnn()) {
            return Optional.of(
                    "ND4J's native library is built without oneDNN; put nd4j-native's"
                            + " linux-x86_64-onednn classifier on the class path and set -D"
                            + PLATFORM_EXTENSION
                            + "="
                            + ONEDNN_EXTENSION
                            + " (or call OneDnn.enable()) before ND4J is first used");
        }
        if (!Nd4j.getEnvironment().helpersAllowed()) {
            return Optional.of(
                    "ND4J's helpers are turned off (Nd4j.getEnvironment().allowHelpers(false))");
        }
        if (!isUseOneDnn()) {
            return Optional.of("ND4J's oneDNN is turned off (Nd4jCpu.Environment.setUseONEDNN)");
        }
        if (!BaseMKLDNNHelper.mklDnnEnabled()) {
            return Optional.of(
                    "DL4J cannot see ND4J's oneDNN: org.nd4j.nativeblas.Nd4jCpu$Environment,"
                            + " which DL4J 1.0.0-M2 asks and dropblock4j-dl4j ships, is not on"
                            + " the class path");
        }
        return Optional.empty();
    }

    /**
     * Returns whether ND4J's native library, loaded now if it is not yet, has oneDNN and uses it.
     * This is the question DL4J 1.0.0-M2 means to ask before it creates a oneDNN helper.
     *
     * @return true if the library is built with oneDNN and its use is on; false on other backends
     */
    public static boolean inNativeLibrary() {
        return nativeBuildHasOneDnn() && isUseOneDnn();
    }

    /**
     * Returns the names of a network's convolution and batch-normalization layers that run DL4J's
     * built-in code instead of a oneDNN helper.
     *
     * @param net an initialized network
     * @return the layers' names, in the network's order; empty when every such layer has one
     */
    public static List<String> layersWithoutHelper(ComputationGraph net) {
        return withoutHelper(layers(net));
    }

    /**
     * Returns the names of a network's convolution and batch-normalization layers that run DL4J's
     * built-in code instead of a oneDNN helper.
     *
     * @param net an initialized network
     * @return the layers' names, in the network's order; empty when every such layer has one
     */
    public static List<String> layersWithoutHelper(MultiLayerNetwork net) {
        return withoutHelper(layers(net));
    }

    /**
     * Says in one line whether a network uses oneDNN: how many of its convolution and
     * batch-normalization layers have their helper, or why none has (see {@link #whyOff()}).
     *
     * @param net an initialized network
     * @return the line, starting with {@code "oneDNN: on"}, {@code "oneDNN: partly on"} or {@code
     *     "oneDNN: off"}
     */
    public static String describe(ComputationGraph net) {
        return describe(layers(net));
    }

    /**
     * Says in one line whether a network uses oneDNN, as {@link #describe(ComputationGraph)}.
     *
     * @param net an initialized network
     * @return the line, starting with {@code "oneDNN: on"}, {@code "oneDNN: partly on"} or {@code
     *     "oneDNN: off"}
     */
    public static String describe(MultiLayerNetwork net) {
        return describe(layers(net));
    }

    private static String describe(Layer[] layers) {
        int eligible = 0;
        for (Layer layer : layers) {
            if (isEligible(layer)) {
                eligible++;
            }
        }
        List<String> without = withoutHelper(layers);
        int with = eligible - without.size();
        String counts = with + " of " + eligible + " convolution and batch-norm layers";
        if (eligible > 0 && without.isEmpty()) {
            return "oneDNN: on (" + counts + ")";
        }
        if (with > 0) {
            return "oneDNN: partly on (" + counts + "; without it: " + without + ")";
        }
        return "oneDNN: off ("
                + counts
                + "), DL4J runs its several times slower built-in layers: "
                + whyOff().orElse("DL4J turned down the helper for every layer");
    }

    private static List<String> withoutHelper(Layer[] layers) {
        List<String> names = new ArrayList<>();
        for (Layer layer : layers) {
            if (isEligible(layer) && !hasOneDnnHelper(layer)) {
                names.add(layer.conf().getLayer().getLayerName());
            }
        }
        return names;
    }

    // The layers for which DL4J 1.0.0-M2 has a oneDNN helper and this class checks it; subclasses
    // of ConvolutionLayer (depthwise, separable, 1D, transposed) get none.
    private static boolean isEligible(Layer layer) {
        return layer.getClass() == ConvolutionLayer.class || layer instanceof BatchNormalization;
    }

    private static boolean hasOneDnnHelper(Layer layer) {
        return layer.getHelper() instanceof MKLDNNConvHelper
                || layer.getHelper() instanceof MKLDNNBatchNormHelper;
    }

    private static Layer[] layers(ComputationGraph net) {
        return checkInitialized(requireNet(net), net.getLayers());
    }

    private static Layer[] layers(MultiLayerNetwork net) {
        return checkInitialized(requireNet(net), net.getLayers());
    }

    private static <T> T requireNet(T net) {
        if (net == null) {
            throw new IllegalArgumentException("net must not be null");
        }
        return net;
    }

    private static Layer[] checkInitialized(Object net, Layer[] layers) {
        if (layers == null) {
            throw new IllegalArgumentException(
                    "net must be initialized (init()) before its helpers are checked, got an"
                            + " uninitialized "
                            + net.getClass().getSimpleName());
        }
        return layers;
    }

    private static boolean nativeBuildHasOneDnn() {
        String buildInfo = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
        return buildInfo != null && buildInfo.contains(BUILD_FLAG);
    }

    // Reflective, because nd4j-native is the user's choice of backend, not this library's
    // dependency; false when the CPU backend's bindings are not on the class path.
    private static boolean isUseOneDnn() {
        try {
            Class<?> environment = Class.forName(ND4J_ENVIRONMENT);
            Object instance = environment.getMethod("getInstance").invoke(null);
            return (Boolean) environment.getMethod("isUseONEDNN").invoke(instance);
        } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
            return false;
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("ND4J failed to say whether it uses oneDNN", e);
        }
    }
}
