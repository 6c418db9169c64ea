package io.github.dropblock4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Re-estimates the running statistics of every batch norm of a trained network with its
 * regularizers off: DropBlock (Ghiasi, Lin and Le, arXiv 1810.12890) and dropout in front of a
 * batch norm change the variance it sees in training from the one it sees in evaluation (Li et al.,
 * "Understanding the Disharmony between Dropout and Batch Normalization", CVPR 2019), so the
 * running statistics collected in training do not fit the network that is evaluated.
 *
 * <p>{@link #recalibrate(Block, Iterable)} runs training-mode forwards over the given batches with
 * the drop probability of every {@link DropBlock} and the rate of every DJL {@link Dropout} set to
 * 0, so that each batch norm normalises with its batch's statistics of clean activations, as in
 * training, and records them. Each running mean becomes the plain average over the batches of the
 * per-batch means, and each running variance the plain average of the per-batch variances, both as
 * the engine's batch norm records them (PyTorch: the unbiased variance of the batch). That is what
 * PyTorch's {@code torch.optim.swa_utils.update_bn} computes (a cumulative moving average, {@code
 * momentum=None}), but with the regularizers off, and not an exponential average that forgets the
 * early batches. It is the mean of per-batch variances, not the variance pooled over all batches:
 * pooling would add the spread of the batch means, which a batch norm in training never normalises
 * with.
 *
 * <p>No weight changes: the forwards are not differentiated and gamma and beta are only read. The
 * drop probabilities and dropout rates are restored afterwards; if a batch fails, the running
 * statistics are restored too. DJL's {@code Dropout} offers no way to set its rate, so it is set
 * through reflection.
 *
 * <p>How a batch norm's running statistics are read: the engine updates them in place as {@code
 * running = (1 - m) * running + m * batch}, with DJL's {@code 1 - momentum} as {@code m}. Zeroing
 * them before each forward leaves {@code m * batch}; {@code m} itself is measured once, by running
 * the first batch twice from two known running means.
 *
 * <p>Not thread safe: nothing else may run the network while it recalibrates.
 */
public final class BatchNormRecalibration {

    private BatchNormRecalibration() {}

    /**
     * Re-estimates every batch norm's running mean and variance from training batches, with every
     * DropBlock and dropout off.
     *
     * @param network an initialised network, e.g. {@code model.getBlock()}
     * @param batches training batches, e.g. {@code dataset.getData(manager)}; each is closed once
     *     used. The first is run twice.
     * @return the number of batch norms re-estimated; 0, without reading a batch, when there is
     *     none
     * @throws IllegalArgumentException if there are no batches, or a batch norm does not update its
     *     running statistics (momentum 1)
     */
    public static int recalibrate(Block network, Iterable<Batch> batches) {
        List<BatchNorm> norms = new ArrayList<>();
        List<DropBlock> dropBlocks = new ArrayList<>();
        List<Dropout> dropouts = new ArrayList<>();
        collect(network, norms, dropBlocks, dropouts);
        if (norms.isEmpty()) {
            return 0;
        }
        Statistics[] statistics = new Statistics[norms.size()];
        for (int i = 0; i < statistics.length; i++) {
            statistics[i] = new Statistics(norms.get(i));
        }
        float[] dropProbs = new float[dropBlocks.size()];
        for (int i = 0; i < dropProbs.length; i++) {
            dropProbs[i] = dropBlocks.get(i).getDropProb();
            dropBlocks.get(i).setDropProb(0f);
        }
        float[] rates = new float[dropouts.size()];
        boolean done = false;
        try {
            for (int i = 0; i < rates.length; i++) {
                rates[i] = rate(dropouts.get(i));
                setRate(dropouts.get(i), 0f);
            }
            int count = 0;
            for (Batch batch : batches) {
                try (batch) {
                    NDList inputs = batch.getData();
                    if (count == 0) {
                        addFirstBatch(network, inputs, statistics);
                    } else {
                        for (Statistics s : statistics) {
                            s.zero();
                        }
                        forward(network, inputs);
                        for (Statistics s : statistics) {
                            s.add(read(s.mean), read(s.variance));
                        }
                    }
                    count++;
                }
            }
            if (count == 0) {
                throw new IllegalArgumentException(
                        "batches must hold at least one batch, got none");
            }
            for (Statistics s : statistics) {
                s.writeAverage(count);
            }
            done = true;
        } finally {
            if (!done) {
                for (Statistics s : statistics) {
                    s.restore();
                }
            }
            for (int i = 0; i < dropProbs.length; i++) {
                dropBlocks.get(i).setDropProb(dropProbs[i]);
            }
            for (int i = 0; i < rates.length; i++) {
                setRate(dropouts.get(i), rates[i]);
            }
        }
        return norms.size();
    }

    private static void collect(
            Block block,
            List<BatchNorm> norms,
            List<DropBlock> dropBlocks,
            List<Dropout> dropouts) {
        if (block instanceof BatchNorm norm) {
            norms.add(norm);
        } else if (block instanceof DropBlock dropBlock) {
            dropBlocks.add(dropBlock);
        } else if (block instanceof Dropout dropout) {
            dropouts.add(dropout);
        }
        for (Block child : block.getChildren().values()) {
            collect(child, norms, dropBlocks, dropouts);
        }
    }

    private static void forward(Block network, NDList inputs) {
        NDManager manager = inputs.head().getManager();
        try (NDManager scratch = manager.newSubManager()) {
            NDList outputs = network.forward(new ParameterStore(manager, false), inputs, true);
            outputs.attach(scratch);
        }
    }

    /**
     * Runs the first batch from running means of 0 and then of {@code c}: the engine leaves {@code
     * m * b} and {@code (1 - m) * c + m * b}, whose difference gives {@code m}; then adds the first
     * batch's statistics. {@code c} exceeds every {@code |m * b|}, so that rounding the second
     * result costs {@code m} no more than a few float ulps of 1.
     */
    private static void addFirstBatch(Block network, NDList inputs, Statistics[] statistics) {
        for (Statistics s : statistics) {
            s.zero();
        }
        forward(network, inputs);
        double[][] first = new double[statistics.length][];
        double[][] firstVariance = new double[statistics.length][];
        double[] offsets = new double[statistics.length];
        for (int i = 0; i < statistics.length; i++) {
            first[i] = read(statistics[i].mean);
            firstVariance[i] = read(statistics[i].variance);
            double largest = 0;
            for (double v : first[i]) {
                largest = Math.max(largest, Math.abs(v));
            }
            offsets[i] = 1 + largest;
            statistics[i].fill(offsets[i]);
        }
        forward(network, inputs);
        for (int i = 0; i < statistics.length; i++) {
            double[] second = read(statistics[i].mean);
            double kept = 0;
            for (int c = 0; c < second.length; c++) {
                kept += (second[c] - first[i][c]) / offsets[i];
            }
            double momentum = 1 - kept / second.length;
            if (!(momentum > 1e-6)) {
                throw new IllegalArgumentException(
                        "every batch norm must update its running statistics (DJL momentum below"
                                + " 1), got an update weight of "
                                + momentum
                                + " in batch norm "
                                + i);
            }
            statistics[i].momentum = momentum;
            statistics[i].add(first[i], firstVariance[i]);
        }
    }

    private static double[] read(NDArray array) {
        try (NDArray values = array.toType(DataType.FLOAT64, true)) {
            return values.toDoubleArray();
        }
    }

    private static void write(NDArray array, double[] values) {
        try (NDManager scratch = array.getManager().newSubManager()) {
            NDArray typed = scratch.create(values).toType(array.getDataType(), false);
            array.set(typed.toByteBuffer());
        }
    }

    // DJL's Dropout keeps its rate in a private field without a setter.
    private static Field rateField() {
        try {
            Field field = Dropout.class.getDeclaredField("rate");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot switch DJL's Dropout off: its rate field is not accessible", e);
        }
    }

    private static float rate(Dropout dropout) {
        try {
            return rateField().getFloat(dropout);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read DJL's Dropout rate", e);
        }
    }

    private static void setRate(Dropout dropout, float rate) {
        try {
            rateField().setFloat(dropout, rate);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot set DJL's Dropout rate", e);
        }
    }

    /** One batch norm's running statistics: the arrays, their saved values and the sums. */
    private static final class Statistics {
        final NDArray mean;
        final NDArray variance;
        final double[] savedMean;
        final double[] savedVariance;
        final double[] sumMean;
        final double[] sumVariance;
        // PyTorch's update weight of the batch statistics, 1 - DJL's momentum.
        double momentum;

        Statistics(BatchNorm norm) {
            mean = norm.getParameters().get("runningMean").getArray();
            variance = norm.getParameters().get("runningVar").getArray();
            savedMean = read(mean);
            savedVariance = read(variance);
            sumMean = new double[savedMean.length];
            sumVariance = new double[savedVariance.length];
        }

        void zero() {
            fill(0);
        }

        void fill(double value) {
            double[] values = new double[savedMean.length];
            Arrays.fill(values, value);
            write(mean, values);
            write(variance, values);
        }

        /** Adds the batch statistics a forward from zeroed running statistics left. */
        void add(double[] m, double[] v) {
            for (int c = 0; c < m.length; c++) {
                sumMean[c] += m[c] / momentum;
                sumVariance[c] += v[c] / momentum;
            }
        }

        void writeAverage(int count) {
            double[] m = new double[sumMean.length];
            double[] v = new double[sumVariance.length];
            for (int c = 0; c < m.length; c++) {
                m[c] = sumMean[c] / count;
                v[c] = sumVariance[c] / count;
            }
            write(mean, m);
            write(variance, v);
        }

        void restore() {
            write(mean, savedMean);
            write(variance, savedVariance);
        }
    }
}
