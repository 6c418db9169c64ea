package io.github.dropblock4j.bench;

import io.github.dropblock4j.dl4j.Nd4jThreads;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.dl4j.ResNetDropBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Training steps of the DL4J ResNet-20 in one JVM, interleaved step by step: with DL4J's oneDNN
 * helpers and DropBlock (as {@code train --framework dl4j} runs), with DL4J's built-in layers and
 * DropBlock, and with oneDNN and no dropout. Resolves the two ratios of docs/performance.md that
 * whole runs of the application, minutes apart on a shared machine, cannot: what oneDNN gains, and
 * what DropBlock costs (arXiv 1810.12890's placement: 18 DropBlocks, keep probability 0.9, block
 * 7).
 *
 * <p>Each round runs one step of every network, in an order that rotates from one round to the
 * next, so that the machine's changing load falls on all of them alike; the result is each
 * network's median step and the median over rounds of the per-round ratios. The networks see the
 * same random batch of 64 single-channel 28 x 28 images (the embedded Fashion-MNIST's shape) every
 * step: the step's cost does not depend on the pixels. The calling thread's native threads are
 * limited to the cores, as the application does ({@link Nd4jThreads}). Not thread safe.
 *
 * <pre>{@code
 * java -cp "bench/target/benchmarks.jar:bench/target/lib/*" \
 *     io.github.dropblock4j.bench.Dl4jTrainingThroughput [ROUNDS]
 * }</pre>
 */
public final class Dl4jTrainingThroughput {

    /** The networks compared, in the order of {@link #measure}'s results. */
    public enum Network {
        /** oneDNN helpers on, DropBlock placed as in the paper. */
        ONEDNN_DROPBLOCK("oneDNN, DropBlock", true, true),
        /** DL4J's built-in convolutions and batch norms, DropBlock placed as in the paper. */
        BUILT_IN_DROPBLOCK("built-in layers, DropBlock", false, true),
        /** oneDNN helpers on, no dropout at all. */
        ONEDNN_NONE("oneDNN, no dropout", true, false);

        private final String label;
        private final boolean helpers;
        private final boolean dropBlock;

        Network(String label, boolean helpers, boolean dropBlock) {
            this.label = label;
            this.helpers = helpers;
            this.dropBlock = dropBlock;
        }

        /**
         * Returns the network's name in the table.
         *
         * @return the label
         */
        public String label() {
            return label;
        }

        // Helpers are decided per layer when the network is initialised, from the property then.
        ComputationGraph create() {
            ResNetDropBlock.Builder builder =
                    ResNetDropBlock.builder()
                            .setNumLayers(20)
                            .setOutSize(CLASSES)
                            .setImageShape(1, SIDE, SIDE)
                            .optKeepProb(0.9)
                            .optUpdater(new Nesterovs(0.01, 0.9))
                            .optSeed(1);
            if (!dropBlock) {
                builder.optDropBlockStages();
            }
            String before = System.getProperty(OneDnn.HELPERS_DISABLE);
            System.setProperty(OneDnn.HELPERS_DISABLE, Boolean.toString(!helpers));
            try {
                ComputationGraph net = new ComputationGraph(builder.build());
                net.init();
                return net;
            } finally {
                if (before == null) {
                    System.clearProperty(OneDnn.HELPERS_DISABLE);
                } else {
                    System.setProperty(OneDnn.HELPERS_DISABLE, before);
                }
            }
        }
    }

    /** The batch of {@code train}, in images. */
    public static final int BATCH = 64;

    private static final int CLASSES = 10;
    private static final int SIDE = 28;
    private static final int WARMUP_ROUNDS = 2;

    private Dl4jTrainingThroughput() {}

    /**
     * Runs the comparison and prints it as a Markdown table.
     *
     * @param args the rounds, optional (default 15)
     */
    public static void main(String[] args) {
        OneDnn.enable();
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        Result result = measure(rounds, BATCH);
        System.out.printf(
                Locale.ROOT,
                "DL4J ResNet-20, batch %d, %d rounds after %d warm-up, %d processors, %s%n%n",
                BATCH,
                rounds,
                WARMUP_ROUNDS,
                Runtime.getRuntime().availableProcessors(),
                result.oneDnn());
        System.out.println("| network | median step (ms) | images/s |");
        System.out.println("|---|---:|---:|");
        for (Network network : Network.values()) {
            double ms = result.medianMillis()[network.ordinal()];
            System.out.printf(
                    Locale.ROOT, "| %s | %.0f | %.1f |%n", network.label(), ms, BATCH * 1e3 / ms);
        }
        System.out.printf(
                Locale.ROOT,
                "%noneDNN speed-up (built-in / oneDNN step, median of rounds): %.2f%n",
                result.oneDnnSpeedUp());
        System.out.printf(
                Locale.ROOT,
                "DropBlock's cost (DropBlock / no-dropout step, median of rounds): %.3f%n",
                result.dropBlockCost());
    }

    /**
     * Times the networks, interleaved.
     *
     * @param rounds timed rounds, at least 1
     * @param batch images a step, at least 1
     * @return the medians and ratios
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static Result measure(int rounds, int batch) {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        Network[] networks = Network.values();
        List<ComputationGraph> nets = new ArrayList<>();
        for (Network network : networks) {
            nets.add(network.create());
        }
        // As train --framework dl4j: this thread's OpenMP threads at the cores (Nd4jThreads).
        Nd4jThreads.limit(Runtime.getRuntime().availableProcessors());
        Nd4j.getRandom().setSeed(1);
        int[] classes = new int[batch];
        Arrays.setAll(classes, i -> i % CLASSES);
        DataSet data =
                new DataSet(Nd4j.randn(batch, 1, SIDE, SIDE), Nd4j.eye(CLASSES).getRows(classes));
        int n = networks.length;
        long[][] nanos = new long[n][rounds];
        for (int round = -WARMUP_ROUNDS; round < rounds; round++) {
            for (int k = 0; k < n; k++) {
                int which = Math.floorMod(k + round, n);
                long start = System.nanoTime();
                nets.get(which).fit(data);
                long elapsed = System.nanoTime() - start;
                if (round >= 0) {
                    nanos[which][round] = elapsed;
                }
            }
        }
        double[] medians = new double[n];
        for (int k = 0; k < n; k++) {
            medians[k] = median(Arrays.stream(nanos[k]).asDoubleStream().toArray()) / 1e6;
        }
        return new Result(
                medians,
                medianRatio(
                        nanos[Network.BUILT_IN_DROPBLOCK.ordinal()],
                        nanos[Network.ONEDNN_DROPBLOCK.ordinal()]),
                medianRatio(
                        nanos[Network.ONEDNN_DROPBLOCK.ordinal()],
                        nanos[Network.ONEDNN_NONE.ordinal()]),
                OneDnn.describe(nets.get(Network.ONEDNN_DROPBLOCK.ordinal())));
    }

    private static double medianRatio(long[] a, long[] b) {
        double[] ratios = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            ratios[i] = (double) a[i] / b[i];
        }
        return median(ratios);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }

    /**
     * What {@link #measure} found.
     *
     * @param medianMillis each network's median step, in the order of {@link Network}
     * @param oneDnnSpeedUp the median over rounds of built-in step / oneDNN step, with DropBlock
     * @param dropBlockCost the median over rounds of DropBlock step / no-dropout step, with oneDNN
     * @param oneDnn {@link OneDnn#describe} of the oneDNN network with DropBlock
     */
    public record Result(
            double[] medianMillis, double oneDnnSpeedUp, double dropBlockCost, String oneDnn) {

        /** {@inheritDoc} */
        @Override
        public boolean equals(Object o) {
            return o instanceof Result r
                    && Arrays.equals(medianMillis, r.medianMillis)
                    && Double.compare(oneDnnSpeedUp, r.oneDnnSpeedUp) == 0
                    && Double.compare(dropBlockCost, r.dropBlockCost) == 0
                    && oneDnn.equals(r.oneDnn);
        }

        /** {@inheritDoc} */
        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(medianMillis)
                    + Objects.hash(oneDnnSpeedUp, dropBlockCost, oneDnn);
        }

        /** {@inheritDoc} */
        @Override
        public String toString() {
            return "Result(medianMillis="
                    + Arrays.toString(medianMillis)
                    + ", oneDnnSpeedUp="
                    + oneDnnSpeedUp
                    + ", dropBlockCost="
                    + dropBlockCost
                    + ", oneDnn="
                    + oneDnn
                    + ")";
        }
    }
}
