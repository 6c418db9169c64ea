package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.Batchifier;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchNormRecalibrationTest {

    private static final Shape INPUT = new Shape(8, 2, 8, 8);
    private static final int BATCHES = 4;
    private static final float EPSILON = 1e-5f;
    // Each batch statistic is computed in float32 twice, by the engine and here from the same
    // convolution outputs: relative rounding of a few 1e-6 per batch, and averaging the batch
    // count's statistics cannot make it larger than one batch's. 1e-4 of the value, plus 1e-4 of
    // a unit for values near 0, is 10 times that and a hundredth of the gap between the plain
    // average and an exponential one over these batches, which the test asserts.
    private static final double RELATIVE = 1e-4;
    private static final double ABSOLUTE = 1e-4;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(21);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /**
     * conv, batch norm, DropBlock, Dropout, ReLU, conv, batch norm: the second batch norm sees the
     * first one's output, so its clean statistics depend on the first one normalising with batch
     * statistics and on both regularizers being off.
     */
    private SequentialBlock network(boolean regularized) {
        SequentialBlock net = new SequentialBlock().add(conv()).add(batchNorm());
        if (regularized) {
            net.add(DropBlock.builder().optBlockSize(3).optDropProb(0.3f).build())
                    .add(Dropout.builder().optRate(0.5f).build());
        }
        net.add(Activation::relu).add(conv()).add(batchNorm());
        net.initialize(manager, DataType.FLOAT32, INPUT);
        // Non-trivial gamma and beta, which the second batch norm's input depends on.
        Random random = new Random(5);
        for (BatchNorm norm : batchNorms(net)) {
            float[] gamma = new float[4];
            float[] beta = new float[4];
            for (int c = 0; c < 4; c++) {
                gamma[c] = 0.5f + random.nextFloat();
                beta[c] = random.nextFloat() - 0.5f;
            }
            norm.getParameters().get("gamma").getArray().set(gamma);
            norm.getParameters().get("beta").getArray().set(beta);
        }
        return net;
    }

    private static Block conv() {
        return Conv2d.builder()
                .setKernelShape(new Shape(3, 3))
                .setFilters(4)
                .optPadding(new Shape(1, 1))
                .build();
    }

    private static Block batchNorm() {
        return BatchNorm.builder().optMomentum(0.9f).optEpsilon(EPSILON).build();
    }

    private static List<BatchNorm> batchNorms(Block block) {
        List<BatchNorm> norms = new ArrayList<>();
        if (block instanceof BatchNorm norm) {
            norms.add(norm);
        }
        for (Block child : block.getChildren().values()) {
            norms.addAll(batchNorms(child));
        }
        return norms;
    }

    /** Batch k: Gaussian pixels of mean k and standard deviation 1 + k / 2. */
    private float[] pixels(int k) {
        Random random = new Random(100 + k);
        float[] values = new float[(int) INPUT.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (k + (1 + k / 2.0) * random.nextGaussian());
        }
        return values;
    }

    private List<Batch> batches(int... ks) {
        List<Batch> batches = new ArrayList<>();
        for (int k : ks) {
            NDManager batchManager = manager.newSubManager();
            NDArray x = batchManager.create(pixels(k), INPUT);
            batches.add(
                    new Batch(
                            batchManager,
                            new NDList(x),
                            new NDList(),
                            (int) INPUT.get(0),
                            Batchifier.STACK,
                            Batchifier.STACK,
                            k,
                            ks.length));
        }
        return batches;
    }

    @Test
    void statisticsAreThePlainAverageOfTheCleanBatchStatistics() {
        SequentialBlock net = network(true);
        List<BatchNorm> norms = batchNorms(net);
        // Per batch norm: {mean, variance} per batch, computed from the clean activations.
        double[][][][] expected = new double[2][2][BATCHES][];
        for (int k = 0; k < BATCHES; k++) {
            double[][][] clean = cleanStatistics(net, pixels(k));
            for (int n = 0; n < 2; n++) {
                expected[n][0][k] = clean[n][0];
                expected[n][1][k] = clean[n][1];
            }
        }
        assertEquals(2, BatchNormRecalibration.recalibrate(net, batches(0, 1, 2, 3)));
        for (int n = 0; n < 2; n++) {
            for (int s = 0; s < 2; s++) {
                double[] average = average(expected[n][s]);
                double[] ema = exponentialAverage(expected[n][s], 0.9);
                double[] actual = values(norms.get(n), s == 0 ? "runningMean" : "runningVar");
                double gap = 0;
                double widest = 0;
                for (int c = 0; c < average.length; c++) {
                    double tolerance = ABSOLUTE + RELATIVE * Math.abs(average[c]);
                    assertEquals(average[c], actual[c], tolerance, "norm " + n + " stat " + s);
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
    void weightsDropProbabilitiesAndDropoutRatesAreLeftAlone() {
        SequentialBlock net = network(true);
        List<float[]> before = learned(net);
        DropBlock dropBlock = DropBlockScheduler.dropBlocksIn(net).get(0);
        BatchNormRecalibration.recalibrate(net, batches(0, 1));
        List<float[]> after = learned(net);
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), after.get(i));
        }
        assertEquals(0.3f, dropBlock.getDropProb());
        // The Dropout still drops about half of a training forward's units.
        Block dropout = net.getChildren().get(3).getValue();
        float[] y =
                dropout.forward(
                                new ParameterStore(manager, false),
                                new NDList(manager.ones(new Shape(4096))),
                                true)
                        .singletonOrThrow()
                        .toFloatArray();
        long zeros = 0;
        for (float v : y) {
            zeros += v == 0f ? 1 : 0;
        }
        // 4096 Bernoulli(0.5) draws: standard error 32, the bar 10 of them.
        assertEquals(2048, zeros, 320);
    }

    @Test
    void aNetworkWithoutRegularizersIsLeftAsItWas() {
        // Training forwards on one batch take the exponential averages to its statistics (0.9^300
        // of the start is left); recalibrating on the same batch must give them back.
        SequentialBlock net = network(false);
        NDArray x = manager.create(pixels(1), INPUT);
        for (int i = 0; i < 300; i++) {
            try (NDManager step = manager.newSubManager()) {
                x.attach(step);
                net.forward(new ParameterStore(step, false), new NDList(x), true);
                x.attach(manager);
            }
        }
        float[] evaluationBefore = evaluate(net, x);
        List<double[]> statisticsBefore = running(net);
        BatchNormRecalibration.recalibrate(net, batches(1, 1, 1));
        List<double[]> statisticsAfter = running(net);
        for (int i = 0; i < statisticsBefore.size(); i++) {
            for (int c = 0; c < statisticsBefore.get(i).length; c++) {
                double v = statisticsBefore.get(i)[c];
                assertEquals(v, statisticsAfter.get(i)[c], ABSOLUTE + RELATIVE * Math.abs(v));
            }
        }
        float[] evaluationAfter = evaluate(net, x);
        for (int i = 0; i < evaluationBefore.length; i++) {
            assertEquals(evaluationBefore[i], evaluationAfter[i], 1e-3f);
        }
    }

    @Test
    void aFailedBatchRestoresTheStatisticsAndNoBatchesAreRefused() {
        SequentialBlock net = network(true);
        List<double[]> before = running(net);
        List<Batch> batches = batches(0);
        NDManager wrong = manager.newSubManager();
        batches.add(
                new Batch(
                        wrong,
                        new NDList(wrong.ones(new Shape(8, 3, 8, 8))),
                        new NDList(),
                        8,
                        Batchifier.STACK,
                        Batchifier.STACK,
                        1,
                        2));
        assertThrows(
                RuntimeException.class, () -> BatchNormRecalibration.recalibrate(net, batches));
        assertStatisticsEqual(before, running(net));
        assertEquals(0.3f, DropBlockScheduler.dropBlocksIn(net).get(0).getDropProb());
        assertEquals(
                "batches must hold at least one batch, got none",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BatchNormRecalibration.recalibrate(net, List.of()))
                        .getMessage());
        assertStatisticsEqual(before, running(net));
        assertEquals(
                0,
                BatchNormRecalibration.recalibrate(
                        new SequentialBlock().add(Activation::relu), List.of()));
    }

    private static void assertStatisticsEqual(List<double[]> expected, List<double[]> actual) {
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i));
        }
    }

    /**
     * The per-channel mean and unbiased variance each batch norm's input has in a training forward
     * with DropBlock and Dropout off, computed here: the first convolution's output, normalised
     * with its own batch statistics (biased variance, as a batch norm normalises), gamma, beta,
     * ReLU, then the second convolution.
     */
    private double[][][] cleanStatistics(SequentialBlock net, float[] pixels) {
        List<BatchNorm> norms = batchNorms(net);
        try (NDManager scratch = manager.newSubManager()) {
            ParameterStore store = new ParameterStore(scratch, false);
            NDArray x = scratch.create(pixels, INPUT);
            Block conv1 = net.getChildren().get(0).getValue();
            Block conv2 = net.getChildren().get(net.getChildren().size() - 2).getValue();
            float[] a1 =
                    conv1.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
            double[][] stats1 = channelStatistics(a1);
            double[] gamma = values(norms.get(0), "gamma");
            double[] beta = values(norms.get(0), "beta");
            float[] h = new float[a1.length];
            int plane = 64;
            for (int i = 0; i < a1.length; i++) {
                int c = i / plane % 4;
                double biased = stats1[2][c];
                double normalised = (a1[i] - stats1[0][c]) / Math.sqrt(biased + EPSILON);
                h[i] = (float) Math.max(0, gamma[c] * normalised + beta[c]);
            }
            NDArray hidden = scratch.create(h, new Shape(8, 4, 8, 8));
            float[] a2 =
                    conv2.forward(store, new NDList(hidden), false)
                            .singletonOrThrow()
                            .toFloatArray();
            double[][] stats2 = channelStatistics(a2);
            return new double[][][] {{stats1[0], stats1[1]}, {stats2[0], stats2[1]}};
        }
    }

    /** Per channel of an (8, 4, 8, 8) array: mean, unbiased variance, biased variance. */
    private static double[][] channelStatistics(float[] values) {
        int channels = 4;
        int plane = 64;
        int n = values.length / channels;
        double[][] stats = new double[3][channels];
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int i = 0; i < values.length; i++) {
                sum += i / plane % channels == c ? values[i] : 0;
            }
            double mean = sum / n;
            double squares = 0;
            for (int i = 0; i < values.length; i++) {
                if (i / plane % channels == c) {
                    squares += (values[i] - mean) * (values[i] - mean);
                }
            }
            stats[0][c] = mean;
            stats[1][c] = squares / (n - 1);
            stats[2][c] = squares / n;
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

    /** What running statistics of the given momentum would hold after the batches, from 0. */
    private static double[] exponentialAverage(double[][] perBatch, double momentum) {
        double[] running = new double[perBatch[0].length];
        for (double[] batch : perBatch) {
            for (int c = 0; c < running.length; c++) {
                running[c] = momentum * running[c] + (1 - momentum) * batch[c];
            }
        }
        return running;
    }

    private static double[] values(BatchNorm norm, String parameter) {
        float[] values = norm.getParameters().get(parameter).getArray().toFloatArray();
        double[] doubles = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            doubles[i] = values[i];
        }
        return doubles;
    }

    private static List<double[]> running(Block net) {
        List<double[]> running = new ArrayList<>();
        for (BatchNorm norm : batchNorms(net)) {
            running.add(values(norm, "runningMean"));
            running.add(values(norm, "runningVar"));
        }
        return running;
    }

    /** Every parameter that training learns: all but the running statistics. */
    private static List<float[]> learned(Block net) {
        List<float[]> learned = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            Parameter.Type type = p.getValue().getType();
            if (type != Parameter.Type.RUNNING_MEAN && type != Parameter.Type.RUNNING_VAR) {
                learned.add(p.getValue().getArray().toFloatArray());
            }
        }
        return learned;
    }

    private float[] evaluate(Block net, NDArray x) {
        try (NDManager scratch = manager.newSubManager()) {
            return net.forward(new ParameterStore(scratch, false), new NDList(x), false)
                    .singletonOrThrow()
                    .toFloatArray();
        }
    }
}
