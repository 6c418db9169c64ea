package io.github.dropblock4j.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.Deconvolution3D;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling1DLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling1D;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPadding1DLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPadding3DLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping1D;

/**
 * Finds the layers of a DL4J configuration where a dropout, DropBlock or DL4J's own, does not do
 * what its placement suggests. DL4J applies a layer's dropout to that layer's input, but some
 * layers never call it and others call it only in the forward; it reports neither. Measured on DL4J
 * 1.0.0-M2 with a dropout that records its calls (the test of this class repeats the measurement
 * for every layer listed):
 *
 * <ul>
 *   <li>{@link Kind#IGNORED}, dropout never applied: {@code BatchNormalization}, {@code
 *       SubsamplingLayer}, {@code Subsampling1DLayer}, {@code GlobalPoolingLayer}, {@code
 *       LocalResponseNormalization}, {@code ActivationLayer}, {@code ZeroPaddingLayer}, {@code
 *       ZeroPadding1DLayer}, {@code ZeroPadding3DLayer}, {@code Cropping1D}. Put a {@code
 *       DropoutLayer} after the layer instead; after a {@code BatchNormalization} that is the
 *       DropBlock paper's placement.
 *   <li>{@link Kind#GRADIENT_NOT_MASKED}, applied in the forward but never to the gradient, so the
 *       dropped units still receive gradient: {@code Convolution1DLayer}, {@code Convolution3D},
 *       {@code Deconvolution2D}, {@code Deconvolution3D}, {@code SpaceToDepthLayer}, {@code
 *       Upsampling1D}. Put a {@code DropoutLayer} before the layer instead.
 *   <li>{@link Kind#NHWC_CONVOLUTION}: {@code ConvolutionLayer} with {@code CNN2DFormat.NHWC}
 *       applies its dropout to the NHWC input but back-propagates it through the NCHW gradient. Put
 *       a {@code DropoutLayer} before the layer instead. DL4J's oneDNN helper ({@link OneDnn})
 *       back-propagates it correctly, but a configuration does not say which path a network will
 *       take (no oneDNN build, helpers off, a layer the helper declines), so it is reported either
 *       way.
 *   <li>{@link Kind#LAYOUT_MISMATCH}: a {@link DropBlock} whose {@link DropBlock#isChannelsLast()}
 *       differs from the data format of the 2D convolution or upsampling layer that holds it.
 * </ul>
 *
 * <p>Layers not listed (dense, {@code ConvolutionLayer} in NCHW, separable and depthwise
 * convolutions, {@code DropoutLayer}, ...) apply dropout in the forward and the backward alike and
 * are not reported. A {@code DropoutLayer} does not know its data format: it is up to the caller
 * that a DropBlock in one matches the layout of the activations it receives.
 *
 * <p>Stateless and thread safe.
 */
public final class DropoutPlacement {

    private static final Set<Class<? extends Layer>> IGNORING =
            Set.of(
                    BatchNormalization.class,
                    SubsamplingLayer.class,
                    Subsampling1DLayer.class,
                    GlobalPoolingLayer.class,
                    LocalResponseNormalization.class,
                    ActivationLayer.class,
                    ZeroPaddingLayer.class,
                    ZeroPadding1DLayer.class,
                    ZeroPadding3DLayer.class,
                    Cropping1D.class);

    private static final Set<Class<? extends Layer>> FORWARD_ONLY =
            Set.of(
                    Convolution1DLayer.class,
                    Convolution3D.class,
                    Deconvolution2D.class,
                    Deconvolution3D.class,
                    SpaceToDepthLayer.class,
                    Upsampling1D.class);

    private DropoutPlacement() {}

    /** What is wrong with a layer's dropout. */
    public enum Kind {
        /** The layer never applies its dropout. */
        IGNORED,
        /** The layer applies its dropout in the forward but not to the gradient. */
        GRADIENT_NOT_MASKED,
        /** An NHWC {@code ConvolutionLayer}: the gradient reaches the dropout in NCHW. */
        NHWC_CONVOLUTION,
        /** A DropBlock's channel layout differs from the layer's data format. */
        LAYOUT_MISMATCH
    }

    /**
     * A layer whose dropout does not do what its placement suggests.
     *
     * @param layer the layer's name; DL4J names an unnamed layer of a {@code
     *     MultiLayerConfiguration} {@code "layer" + index}
     * @param layerType the simple name of the layer's configuration class
     * @param dropout the layer's dropout
     * @param kind what is wrong
     */
    public record Issue(String layer, String layerType, IDropout dropout, Kind kind) {

        /**
         * Creates an issue.
         *
         * @param layer the layer's name
         * @param layerType the simple name of the layer's configuration class
         * @param dropout the layer's dropout
         * @param kind what is wrong
         * @throws NullPointerException if an argument is null
         */
        public Issue {
            Objects.requireNonNull(layer, "layer");
            Objects.requireNonNull(layerType, "layerType");
            Objects.requireNonNull(dropout, "dropout");
            Objects.requireNonNull(kind, "kind");
        }

        /**
         * Says what is wrong and what to do instead, in one line.
         *
         * @return the message
         */
        public String message() {
            String where = "layer " + layer + " (" + layerType + ") has dropout " + dropout;
            switch (kind) {
                case IGNORED:
                    return where + ", which DL4J never applies there; put a DropoutLayer after it";
                case GRADIENT_NOT_MASKED:
                    return where
                            + ", which DL4J applies in the forward but not to the gradient; put a"
                            + " DropoutLayer before it";
                case NHWC_CONVOLUTION:
                    return where
                            + ", which DL4J applies to NHWC input but back-propagates in NCHW; put"
                            + " a DropoutLayer before it";
                case LAYOUT_MISMATCH:
                    return where + ", whose channelsLast does not match the layer's data format";
                default:
                    throw new AssertionError(kind);
            }
        }
    }

    /**
     * Checks every layer of a multi-layer configuration.
     *
     * @param conf the configuration
     * @return the issues found, in layer order; empty when every dropout is applied as placed
     */
    public static List<Issue> check(MultiLayerConfiguration conf) {
        List<Issue> issues = new ArrayList<>();
        List<NeuralNetConfiguration> layers = conf.getConfs();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i).getLayer();
            // DL4J names unnamed layers "layer" + index when it builds the configuration.
            String name = layer.getLayerName() != null ? layer.getLayerName() : "layer" + i;
            check(name, layer, issues);
        }
        return issues;
    }

    /**
     * Checks every layer vertex of a computation graph configuration.
     *
     * @param conf the configuration
     * @return the issues found, in vertex order; empty when every dropout is applied as placed
     */
    public static List<Issue> check(ComputationGraphConfiguration conf) {
        List<Issue> issues = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> vertex : conf.getVertices().entrySet()) {
            if (vertex.getValue() instanceof LayerVertex) {
                Layer layer = ((LayerVertex) vertex.getValue()).getLayerConf().getLayer();
                check(vertex.getKey(), layer, issues);
            }
        }
        return issues;
    }

    /**
     * Returns the configuration if {@link #check(MultiLayerConfiguration)} finds nothing.
     *
     * @param conf the configuration
     * @return {@code conf}
     * @throws IllegalArgumentException listing every issue found
     */
    public static MultiLayerConfiguration requireValid(MultiLayerConfiguration conf) {
        return requireNone(check(conf), conf);
    }

    /**
     * Returns the configuration if {@link #check(ComputationGraphConfiguration)} finds nothing.
     *
     * @param conf the configuration
     * @return {@code conf}
     * @throws IllegalArgumentException listing every issue found
     */
    public static ComputationGraphConfiguration requireValid(ComputationGraphConfiguration conf) {
        return requireNone(check(conf), conf);
    }

    private static <T> T requireNone(List<Issue> issues, T conf) {
        if (!issues.isEmpty()) {
            throw new IllegalArgumentException(
                    "dropout placement: "
                            + issues.stream()
                                    .map(Issue::message)
                                    .collect(Collectors.joining("; ")));
        }
        return conf;
    }

    private static void check(String name, Layer layer, List<Issue> issues) {
        IDropout dropout = layer.getIDropout();
        if (dropout == null) {
            return;
        }
        Class<? extends Layer> type = layer.getClass();
        String typeName = type.getSimpleName();
        if (IGNORING.contains(type)) {
            issues.add(new Issue(name, typeName, dropout, Kind.IGNORED));
        } else if (FORWARD_ONLY.contains(type)) {
            issues.add(new Issue(name, typeName, dropout, Kind.GRADIENT_NOT_MASKED));
        } else if (type == ConvolutionLayer.class
                && ((ConvolutionLayer) layer).getCnn2dDataFormat() == CNN2DFormat.NHWC) {
            issues.add(new Issue(name, typeName, dropout, Kind.NHWC_CONVOLUTION));
        } else if (dropout instanceof DropBlock) {
            CNN2DFormat format = format2d(layer);
            boolean channelsLast = ((DropBlock) dropout).isChannelsLast();
            if (format != null && channelsLast != (format == CNN2DFormat.NHWC)) {
                issues.add(new Issue(name, typeName, dropout, Kind.LAYOUT_MISMATCH));
            }
        }
    }

    /** The data format of the 2D layers that apply dropout both ways, or null for others. */
    private static CNN2DFormat format2d(Layer layer) {
        if (layer.getClass() == ConvolutionLayer.class
                || layer instanceof SeparableConvolution2D
                || layer instanceof DepthwiseConvolution2D) {
            return ((ConvolutionLayer) layer).getCnn2dDataFormat();
        }
        if (layer instanceof Upsampling2D) {
            return ((Upsampling2D) layer).getFormat();
        }
        return null;
    }
}
