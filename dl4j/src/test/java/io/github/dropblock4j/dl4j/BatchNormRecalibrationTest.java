package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class BatchNormRecalibrationTest {

    private static final long[] INPUT = {8, 2, 8, 8};
    private static final int BATCHES = 4;
    private static final double EPSILON = 1e-5;
    // ND4J computes the convolutions in float32 for both sides, and this test the statistics in
    // float64 from the same outputs: relative differences of a few 1e-6 per batch, which averaging
    // the batch count's statistics cannot make larger than one batch's; log10(stdev) storage adds
    // float32 rounding of the logarithm. 1e-4 of the value, plus 1e-4 of a unit for values near 0,
    // is ten times that and a hundredth of the gap between the plain average and an exponential
    // one over these batches, which the test asserts.
    private static final double RELATIVE = 1e-4;
    private static final double ABSOLUTE = 1e-4;

    /**
     * conv, batch norm, DropBlock, ReLU, conv with DL4J's Dropout on its input, batch norm, pool,
     * output: the second batch norm sees the first one's output, so its clean statistics depend on
     * the first one normalising with batch statistics and on both regularizers being off.
     */
    private static ComputationGraph network(boolean regularized) {
        ConvolutionLayer.Builder conv2 =
                new ConvolutionLayer.Builder(3, 3)
                        .padding(1, 1)
                        .nOut(4)
                        .hasBias(false)
                        .activation(Activation.IDENTITY);
        ComputationGraphConfiguration.GraphBuilder graph =
                new NeuralNetConfiguration.Builder()
                        .seed(12)
                        .updater(new Sgd(0))
                        .graphBuilder()
                        .addInputs("in")
                        .addLayer(
                                "conv1",
                                new ConvolutionLayer.Builder(3, 3)
                                        .padding(1, 1)
                                        .nOut(4)
                                        .hasBias(false)
                                        .activation(Activation.IDENTITY)
                                        .build(),
                                "in")
                        .addLayer("bn1", batchNorm(), "conv1");
        String before = "bn1";
        if (regularized) {
            graph.addLayer("drop", new DropoutLayer.Builder(new DropBlock(0.7, 3)).build(), "bn1");
            before = "drop";
            conv2.dropOut(new Dropout(0.5));
        }
        ComputationGraphConfiguration conf =
                graph.addLayer(
                                "relu",
                                new ActivationLayer.Builder().activation(Activation.RELU).build(),
                                before)
                        .addLayer("conv2", conv2.build(), "relu")
                        .addLayer("bn2", batchNorm(), "conv2")
                        .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "bn2")
                        .addLayer(
                                "out",
                                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                        .nOut(2)
                                        .activation(Activation.SOFTMAX)
                                        .build(),
                                "pool")
                        .setOutputs("out")
                        .setInputTypes(InputType.convolutional(8, 8, 2))
                        .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        // Non-trivial gamma and beta, which the second batch norm's input depends on.
        Random random = new Random(5);
        for (String bn : List.of("bn1", "bn2")) {
            for (int c = 0; c < 4; c++) {
                net.getParam(bn + "_gamma").putScalar(c, 0.5 + random.nextDouble());
                net.getParam(bn + "_beta").putScalar(c, random.nextDouble() - 0.5);
            }
        }
        return net;
    }

    private static BatchNormalization batchNorm() {
        return new BatchNormalization.Builder()
                .decay(0.9)
                .eps(EPSILON)
                .activation(Activation.IDENTITY)
                .build();
    }

    /** Batch k: Gaussian pixels of mean k and standard deviation 1 + k / 2. */
    private static INDArray pixels(int k) {
        Random random = new Random(100 + k);
        float[] values = new float[8 * 2 * 8 * 8];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (k + (1 + k / 2.0) * random.nextGaussian());
        }
        return Nd4j.create(values, INPUT, 'c');
    }

    private static ListDataSetIterator<DataSet> batches(int... ks) {
        List<DataSet> batches = new ArrayList<>();
        for (int k : ks) {
            INDArray labels = Nd4j.zeros(DataType.FLOAT, 8, 2);
            labels.getColumn(k % 2).assign(1);
            batches.add(new DataSet(pixels(k), labels));
        }
        // Each element is a whole batch: the iterator must hand them out one at a time.
        return new ListDataSetIterator<>(batches, 1);
    }

    @Test
    void statisticsAreThePlainAverageOfTheCleanBatchStatistics() {
        ComputationGraph net = network(true);
        // Per batch norm and statistic (mean, biased variance): each batch's, from clean
        // activations.
        double[][][][] perBatch = new double[2][2][BATCHES][];
        for (int k = 0; k < BATCHES; k++) {
            double[][][] clean = cleanStatistics(net, pixels(k));
            for (int n = 0; n < 2; n++) {
                perBatch[n][0][k] = clean[n][0];
                perBatch[n][1][k] = clean[n][1];
            }
        }
        int iterations = net.getIterationCount();
        assertEquals(2, BatchNormRecalibration.recalibrate(net, batches(0, 1, 2, 3)));
        assertEquals(iterations, net.getIterationCount());
        for (int n = 0; n < 2; n++) {
            double[][] actual = running(net, "bn" + (n + 1));
            for (int s = 0; s < 2; s++) {
                double[] average = average(perBatch[n][s]);
                double[] ema = exponentialAverage(perBatch[n][s], 0.9);
                double gap = 0;
                double widest = 0;
                for (int c = 0; c < average.length; c++) {
                    double tolerance = ABSOLUTE + RELATIVE * Math.abs(average[c]);
                    assertEquals(average[c], actual[s][c], tolerance, "bn" + (n + 1) + " " + s);
                    gap = Math.max(gap, Math.abs(ema[c] - average[c]));
                    widest = Math.max(widest, tolerance);
                }
                assertTrue(
                        gap > 100 * widest,
                        "the batches must tell an average from an exponential one");
            }
        }
    }

    @Test
    void weightsAndRegularizersAreLeftAlone() {
        ComputationGraph net = network(true);
        IDropout dropBlock = net.getLayer("drop").conf().getLayer().getIDropout();
        IDropout dropout = net.getLayer("conv2").conf().getLayer().getIDropout();
        INDArray before = learned(net);
        BatchNormRecalibration.recalibrate(net, batches(0, 1));
        assertEquals(before, learned(net));
        assertSame(dropBlock, net.getLayer("drop").conf().getLayer().getIDropout());
        assertSame(dropout, net.getLayer("conv2").conf().getLayer().getIDropout());
        // Still regularized: a training forward drops.
        INDArray dropped = net.feedForward(pixels(0), true).get("drop");
        assertTrue(DropBlockTest.countZeros(dropped) > 0);
    }

    @Test
    void aNetworkWithoutRegularizersIsLeftAsItWas() {
        // Steps with a learning rate of 0 take the exponential averages to one batch's statistics
        // (0.9^200 of the start is left); recalibrating on the same batch must give them back.
        ComputationGraph net = network(false);
        DataSet batch = batches(1).next();
        INDArray weights = learned(net);
        for (int i = 0; i < 200; i++) {
            net.fit(batch);
        }
        assertEquals(weights, learned(net));
        INDArray evaluationBefore = net.outputSingle(batch.getFeatures());
        double[][][] before = {running(net, "bn1"), running(net, "bn2")};
        BatchNormRecalibration.recalibrate(net, batches(1, 1, 1));
        double[][][] after = {running(net, "bn1"), running(net, "bn2")};
        for (int n = 0; n < 2; n++) {
            for (int s = 0; s < 2; s++) {
                for (int c = 0; c < 4; c++) {
                    double v = before[n][s][c];
                    assertEquals(v, after[n][s][c], ABSOLUTE + RELATIVE * Math.abs(v));
                }
            }
        }
        assertTrue(evaluationBefore.equalsWithEps(net.outputSingle(batch.getFeatures()), 1e-4));
    }

    @Test
    void aFailedBatchRestoresTheStatisticsAndNoBatchesAreRefused() {
        ComputationGraph net = network(true);
        double[][] before = running(net, "bn2");
        List<DataSet> bad = new ArrayList<>();
        bad.add(batches(0).next());
        bad.add(new DataSet(Nd4j.ones(DataType.FLOAT, 8, 3, 8, 8), Nd4j.zeros(8, 2)));
        assertThrows(
                RuntimeException.class,
                () -> BatchNormRecalibration.recalibrate(net, new ListDataSetIterator<>(bad, 1)));
        assertArrayEquals(before[0], running(net, "bn2")[0], 1e-7);
        assertArrayEquals(before[1], running(net, "bn2")[1], 1e-7);
        assertTrue(net.getLayer("drop").conf().getLayer().getIDropout() instanceof DropBlock);
        assertEquals(
                "batches must hold at least one batch, got none",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        BatchNormRecalibration.recalibrate(
                                                net, new ListDataSetIterator<>(List.of(), 1)))
                        .getMessage());
    }

    @Test
    void theResNetBuildersNetworkIsRecalibrated() {
        ComputationGraph net =
                new ComputationGraph(
                        ResNetDropBlock.builder()
                                .setNumLayers(20)
                                .setOutSize(2)
                                .setImageShape(2, 8, 8)
                                .optSeed(3)
                                .build());
        net.init();
        assertEquals(1 + 9 * 2 + 2, BatchNormRecalibration.recalibrate(net, batches(0, 1)));
        // The stem's batch norm sees the first convolution of the batches: its mean is finite
        // and its log10(stdev) that of a positive variance.
        assertTrue(Double.isFinite(net.getParam("stem_bn_log10stdev").sumNumber().doubleValue()));
    }

    /**
     * The per-channel mean and biased variance each batch norm's input has in a training forward
     * with DropBlock and Dropout off, computed here: the first convolution's output, normalised
     * with its own batch statistics, gamma, beta, ReLU, then the second convolution.
     */
    private static double[][][] cleanStatistics(ComputationGraph net, INDArray x) {
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        INDArray a1 = net.getLayer("conv1").activate(x, false, none).castTo(DataType.DOUBLE);
        double[][] stats1 = channelStatistics(a1);
        double[] gamma = net.getParam("bn1_gamma").castTo(DataType.DOUBLE).toDoubleVector();
        double[] beta = net.getParam("bn1_beta").castTo(DataType.DOUBLE).toDoubleVector();
        INDArray h = a1.dup();
        for (int c = 0; c < 4; c++) {
            INDArray channel = h.get(all(), point(c), all(), all());
            channel.subi(stats1[0][c])
                    .divi(Math.sqrt(stats1[1][c] + EPSILON))
                    .muli(gamma[c])
                    .addi(beta[c]);
        }
        h = org.nd4j.linalg.ops.transforms.Transforms.relu(h, false).castTo(DataType.FLOAT);
        INDArray a2 = net.getLayer("conv2").activate(h, false, none).castTo(DataType.DOUBLE);
        double[][] stats2 = channelStatistics(a2);
        return new double[][][] {stats1, stats2};
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex all() {
        return org.nd4j.linalg.indexing.NDArrayIndex.all();
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex point(long i) {
        return org.nd4j.linalg.indexing.NDArrayIndex.point(i);
    }

    /** Per channel of an NCHW array: mean and biased variance. */
    private static double[][] channelStatistics(INDArray values) {
        double[][] stats = new double[2][4];
        for (int c = 0; c < 4; c++) {
            double[] v = values.get(all(), point(c), all(), all()).dup().data().asDouble();
            double mean = 0;
            for (double u : v) {
                mean += u / v.length;
            }
            double squares = 0;
            for (double u : v) {
                squares += (u - mean) * (u - mean);
            }
            stats[0][c] = mean;
            stats[1][c] = squares / v.length;
        }
        return stats;
    }

    private static double[] average(double[][] perBatch) {
        double[] sum = new double[perBatch[0].length];
        for (double[] batch : perBatch) {
            for (int c = 0; c < sum.length; c++) {
                sum[c] += batch[c] / perBatch.length;
            }
        }
        return sum;
    }

    /** What running statistics of the given decay would hold after the batches, from 0. */
    private static double[] exponentialAverage(double[][] perBatch, double decay) {
        double[] running = new double[perBatch[0].length];
        for (double[] batch : perBatch) {
            for (int c = 0; c < running.length; c++) {
                running[c] = decay * running[c] + (1 - decay) * batch[c];
            }
        }
        return running;
    }

    /** A batch norm's global mean and variance (from its stored log10 of the deviation). */
    private static double[][] running(ComputationGraph net, String bn) {
        double[] mean = net.getParam(bn + "_mean").castTo(DataType.DOUBLE).toDoubleVector();
        double[] log10Std =
                net.getParam(bn + "_log10stdev").castTo(DataType.DOUBLE).toDoubleVector();
        double[] variance = new double[log10Std.length];
        for (int c = 0; c < variance.length; c++) {
            variance[c] = Math.pow(10, 2 * log10Std[c]);
        }
        return new double[][] {mean, variance};
    }

    /** Every parameter that training learns: all but the batch norms' global statistics. */
    private static INDArray learned(ComputationGraph net) {
        List<INDArray> learned = new ArrayList<>();
        net.paramTable()
                .forEach(
                        (name, value) -> {
                            if (!name.endsWith("_mean") && !name.endsWith("_log10stdev")) {
                                learned.add(value.reshape(value.length()).dup());
                            }
                        });
        return Nd4j.concat(0, learned.toArray(new INDArray[0]));
    }
}
