package io.github.dropblock4j.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Re-estimates the running statistics of every batch norm of a trained network with its
 * regularizers off: DropBlock (Ghiasi, Lin and Le, arXiv 1810.12890) and dropout in front of a
 * batch norm change the variance it sees in training from the one it sees in evaluation (Li et al.,
 * "Understanding the Disharmony between Dropout and Batch Normalization", CVPR 2019), so the
 * running statistics collected in training do not fit the network that is evaluated.
 *
 * <p>{@link #recalibrate(ComputationGraph, DataSetIterator)} runs a training-mode forward over each
 * batch's features with the dropout of every layer (a {@link DropBlock} or any of DL4J's {@code
 * IDropout}s) and its weight noise (DropConnect) removed, so that each batch norm normalises with
 * its batch's statistics of clean activations, as in training, and reads each batch norm's input.
 * Each global mean becomes the plain average over the batches of the per-batch means, and each
 * global variance the plain average of the per-batch variances, both as DL4J's batch norm records
 * them (the biased variance of the batch, over the batch and the spatial positions). That is
 * PyTorch's {@code update_bn} ({@code momentum=None}) with the regularizers off, not an exponential
 * average that forgets the early batches. It is the mean of per-batch variances, not the variance
 * pooled over all batches: pooling would add the spread of the batch means, which a batch norm in
 * training never normalises with. A layer that stores {@code log10(stdev)} ({@code useLogStd}, the
 * builder's default) gets {@code log10(sqrt(variance))}.
 *
 * <p>No weight changes: the forwards are not back-propagated, and the iteration and epoch counts,
 * which schedules read, are untouched. The dropouts and weight noises are put back afterwards; if a
 * batch fails, the statistics are restored too.
 *
 * <p>Not thread safe: nothing else may run the network while it recalibrates.
 */
public final class BatchNormRecalibration {

    private BatchNormRecalibration() {}

    /**
     * Re-estimates every batch norm's global mean and variance of a computation graph with one
     * input from training batches, with every dropout and weight noise off.
     *
     * @param network an initialised graph with one input
     * @param batches training batches; their features are used, from the start when the iterator is
     *     exhausted and can reset
     * @return the number of batch norms re-estimated; 0, without reading a batch, when there is
     *     none
     * @throws IllegalArgumentException if the graph has more than one input or there are no batches
     */
    public static int recalibrate(ComputationGraph network, DataSetIterator batches) {
        if (network.getNumInputArrays() != 1) {
            throw new IllegalArgumentException(
                    "network must have 1 input, got " + network.getNumInputArrays());
        }
        List<Statistics> norms = new ArrayList<>();
        for (Layer layer : network.getLayers()) {
            if (layer instanceof BatchNormalization norm) {
                String name = layer.conf().getLayer().getLayerName();
                GraphVertex vertex = network.getVertex(name);
                String input = network.getConfiguration().getVertexInputs().get(name).get(0);
                InputPreProcessor preProcessor =
                        vertex instanceof LayerVertex layerVertex
                                ? layerVertex.getLayerPreProcessor()
                                : null;
                norms.add(
                        new Statistics(norm, activations -> activations.get(input), preProcessor));
            }
        }
        return recalibrate(
                network.getLayers(),
                norms,
                batches,
                features -> {
                    Map<String, INDArray> byName = network.feedForward(features, true);
                    return byName::get;
                });
    }

    /**
     * Re-estimates every batch norm's global mean and variance of a multi-layer network from
     * training batches, with every dropout and weight noise off.
     *
     * @param network an initialised network
     * @param batches training batches; their features are used, from the start when the iterator is
     *     exhausted and can reset
     * @return the number of batch norms re-estimated; 0, without reading a batch, when there is
     *     none
     * @throws IllegalArgumentException if there are no batches
     */
    public static int recalibrate(MultiLayerNetwork network, DataSetIterator batches) {
        List<Statistics> norms = new ArrayList<>();
        Layer[] layers = network.getLayers();
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] instanceof BatchNormalization norm) {
                // feedForward lists the input first, then each layer's output.
                String index = Integer.toString(i);
                InputPreProcessor preProcessor =
                        network.getLayerWiseConfigurations().getInputPreProcess(i);
                norms.add(
                        new Statistics(norm, activations -> activations.get(index), preProcessor));
            }
        }
        return recalibrate(
                layers,
                norms,
                batches,
                features -> {
                    List<INDArray> list = network.feedForward(features, true);
                    return position -> list.get(Integer.parseInt(position));
                });
    }

    private static int recalibrate(
            Layer[] layers, List<Statistics> norms, DataSetIterator batches, Forward forward) {
        if (norms.isEmpty()) {
            return 0;
        }
        IDropout[] dropouts = new IDropout[layers.length];
        IWeightNoise[] noises = new IWeightNoise[layers.length];
        boolean done = false;
        try {
            for (int i = 0; i < layers.length; i++) {
                org.deeplearning4j.nn.conf.layers.Layer conf = layers[i].conf().getLayer();
                dropouts[i] = conf.getIDropout();
                conf.setIDropout(null);
                if (conf instanceof BaseLayer base) {
                    noises[i] = base.getWeightNoise();
                    base.setWeightNoise(null);
                }
            }
            if (!batches.hasNext() && batches.resetSupported()) {
                batches.reset();
            }
            int count = 0;
            while (batches.hasNext()) {
                INDArray features = batches.next().getFeatures();
                Activations activations = forward.run(features);
                for (Statistics norm : norms) {
                    norm.add(activations, features.size(0));
                }
                count++;
            }
            if (count == 0) {
                throw new IllegalArgumentException(
                        "batches must hold at least one batch, got none");
            }
            for (Statistics norm : norms) {
                norm.writeAverage(count);
            }
            done = true;
        } finally {
            if (!done) {
                for (Statistics norm : norms) {
                    norm.restore();
                }
            }
            for (int i = 0; i < layers.length; i++) {
                org.deeplearning4j.nn.conf.layers.Layer conf = layers[i].conf().getLayer();
                conf.setIDropout(dropouts[i]);
                if (conf instanceof BaseLayer base) {
                    base.setWeightNoise(noises[i]);
                }
            }
        }
        return norms.size();
    }

    /** The activations of one training forward, by vertex name or layer position. */
    private interface Activations {
        INDArray get(String key);
    }

    /** A training-mode forward of a batch's features. */
    private interface Forward {
        Activations run(INDArray features);
    }

    /** One batch norm: where its input is, its parameters, their saved values and the sums. */
    private static final class Statistics {
        private final BatchNormalization norm;
        private final Function<Activations, INDArray> input;
        private final InputPreProcessor preProcessor;
        private final boolean logStd;
        private final String varianceParam;
        private final INDArray savedMean;
        private final INDArray savedVariance;
        private double[] sumMean;
        private double[] sumVariance;

        Statistics(
                BatchNormalization norm,
                Function<Activations, INDArray> input,
                InputPreProcessor preProcessor) {
            this.norm = norm;
            this.input = input;
            this.preProcessor = preProcessor;
            logStd =
                    ((org.deeplearning4j.nn.conf.layers.BatchNormalization) norm.conf().getLayer())
                            .isUseLogStd();
            varianceParam =
                    logStd
                            ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                            : BatchNormalizationParamInitializer.GLOBAL_VAR;
            savedMean = norm.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).dup();
            savedVariance = norm.getParam(varianceParam).dup();
        }

        /** Adds the mean and biased variance of the norm's input, per channel. */
        void add(Activations activations, long batchSize) {
            INDArray x = input.apply(activations);
            if (preProcessor != null) {
                x = preProcessor.preProcess(x, (int) batchSize, LayerWorkspaceMgr.noWorkspaces());
            }
            INDArray values = x.castTo(DataType.DOUBLE);
            int[] dims;
            if (values.rank() == 2) {
                dims = new int[] {0};
            } else if (values.rank() == 4) {
                CNN2DFormat format =
                        ((org.deeplearning4j.nn.conf.layers.BatchNormalization)
                                        norm.conf().getLayer())
                                .getCnn2DFormat();
                dims = format == CNN2DFormat.NHWC ? new int[] {0, 1, 2} : new int[] {0, 2, 3};
            } else {
                throw new IllegalArgumentException(
                        "batch norm input must have rank 2 or 4, got rank " + values.rank());
            }
            double[] mean = values.mean(dims).toDoubleVector();
            double[] variance = values.var(false, dims).toDoubleVector();
            if (sumMean == null) {
                sumMean = new double[mean.length];
                sumVariance = new double[variance.length];
            }
            for (int c = 0; c < mean.length; c++) {
                sumMean[c] += mean[c];
                sumVariance[c] += variance[c];
            }
        }

        void writeAverage(int count) {
            double[] mean = new double[sumMean.length];
            double[] variance = new double[sumVariance.length];
            for (int c = 0; c < mean.length; c++) {
                mean[c] = sumMean[c] / count;
                double v = sumVariance[c] / count;
                // log10(stdev) = log10(variance) / 2.
                variance[c] = logStd ? 0.5 * Math.log10(v) : v;
            }
            assign(BatchNormalizationParamInitializer.GLOBAL_MEAN, mean);
            assign(varianceParam, variance);
        }

        private void assign(String param, double[] values) {
            INDArray target = norm.getParam(param);
            target.assign(Nd4j.create(values).reshape(target.shape()).castTo(target.dataType()));
        }

        void restore() {
            norm.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).assign(savedMean);
            norm.getParam(varianceParam).assign(savedVariance);
        }
    }
}
