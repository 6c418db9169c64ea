package io.github.dropblock4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.spark.KeepProbProbe.Seen;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

class ScheduleAwareTrainingMasterTest {

    private static final int WORKERS = 2;
    private static final int BATCH = 4;
    private static final int AVERAGING = 3;
    private static final int EPOCHS = 2;
    private static final double TARGET = 0.9;
    // Keep probabilities are computed by the same expression on both sides: exact but for rounding.
    private static final double EPS = 1e-12;

    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark() {
        SparkJvmOptions.requireOpen();
        sc =
                new JavaSparkContext(
                        new SparkConf()
                                .setMaster("local[" + WORKERS + "]")
                                .setAppName("ScheduleAwareTrainingMasterTest")
                                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stopSpark() {
        sc.close();
    }

    @BeforeEach
    void clearProbe() {
        KeepProbProbe.forget();
    }

    @Test
    void evenRoundsGiveEveryWorkerEveryStepAndTheTargetOnTheLastStep() {
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        // Two whole rounds and one minibatch too many, which parallelizeEvenly leaves out.
        int minibatches = WORKERS * AVERAGING * 2 + 1;
        int stepsPerEpoch = master.stepsPerEpoch(minibatches);
        int lastStep = EPOCHS * stepsPerEpoch - 1;
        LinearKeepProb schedule = new LinearKeepProb(TARGET, lastStep);
        SparkComputationGraph net = new SparkComputationGraph(sc, graph(schedule), master);
        JavaRDD<DataSet> data = master.parallelizeEvenly(sc, minibatches(minibatches, 1));

        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            net.fit(data);
        }

        assertEquals(2 * AVERAGING, stepsPerEpoch);
        List<Seen> seen = KeepProbProbe.seen();
        assertEquals(
                EPOCHS * stepsPerEpoch * WORKERS, seen.size(), "one forward pass per minibatch");
        for (int step = 0; step <= lastStep; step++) {
            int at = step;
            List<Seen> atStep = seen.stream().filter(s -> s.iteration() == at).toList();
            assertEquals(WORKERS, atStep.size(), "workers at step " + step);
            for (Seen s : atStep) {
                assertEquals(step / stepsPerEpoch, s.epoch(), "epoch at step " + step);
                assertEquals(schedule.valueAt(step, 0), s.keepProb(), EPS);
            }
        }
        List<List<Seen>> lastRound = lastRound(seen);
        assertEquals(WORKERS, lastRound.size());
        for (List<Seen> worker : lastRound) {
            assertEquals(TARGET, worker.get(worker.size() - 1).keepProb(), EPS);
        }
        assertNeverRises(seen);
        assertEquals(lastStep + 1, net.getNetwork().getIterationCount());
        assertEquals(EPOCHS, net.getNetwork().getEpochCount());
    }

    @Test
    void unevenRoundsNeverGoBackAndTheDriverCountsTheStepsTheWorkersTook() {
        // 13 minibatches in 3 partitions, repartitioned by DL4J: rounds of unequal shares.
        int minibatches = 13;
        LinearKeepProb schedule = new LinearKeepProb(TARGET, 8);
        ScheduleAwareTrainingMaster master =
                new ScheduleAwareTrainingMaster(paramAvg().repartionData(Repartition.Always));
        SparkComputationGraph net = new SparkComputationGraph(sc, graph(schedule), master);
        JavaRDD<DataSet> data = sc.parallelize(minibatches(minibatches, 2), 3);
        List<Integer> stepsAfterEpoch = new ArrayList<>();

        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            net.fit(data);
            stepsAfterEpoch.add(net.getNetwork().getIterationCount());
        }

        List<Seen> seen = KeepProbProbe.seen();
        assertNeverRises(seen);
        int lastStep = seen.stream().mapToInt(Seen::iteration).max().orElseThrow();
        assertEquals(lastStep + 1, net.getNetwork().getIterationCount());
        for (Seen s : seen) {
            int epochStart = s.epoch() == 0 ? 0 : stepsAfterEpoch.get(s.epoch() - 1);
            assertTrue(
                    s.iteration() >= epochStart && s.iteration() < stepsAfterEpoch.get(s.epoch()),
                    s + " outside its epoch's steps " + stepsAfterEpoch);
        }
    }

    @Test
    void plainParameterAveragingRestartsEveryWorkerAtIterationZeroEachRound() {
        // What the master corrects: DL4J 1.0.0-M2's workers start each round from a clone whose
        // counts are 0, so a ramp over the whole training never gets past its first few steps.
        int minibatches = WORKERS * AVERAGING * 2;
        SparkComputationGraph net =
                new SparkComputationGraph(
                        sc, graph(new LinearKeepProb(TARGET, 10)), paramAvg().build());
        JavaRDD<DataSet> data = sc.parallelize(minibatches(minibatches, 3), WORKERS);

        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            net.fit(data);
        }

        List<Seen> seen = KeepProbProbe.seen();
        assertEquals(EPOCHS * minibatches, seen.size(), "one forward pass per minibatch");
        assertEquals(AVERAGING - 1, seen.stream().mapToInt(Seen::iteration).max().orElseThrow());
        assertTrue(seen.stream().allMatch(s -> s.epoch() == 0));
    }

    @Test
    void multiLayerNetworkWorkersFollowTrueStepsToo() {
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        int minibatches = WORKERS * AVERAGING * 2;
        int lastStep = EPOCHS * master.stepsPerEpoch(minibatches) - 1;
        LinearKeepProb schedule = new LinearKeepProb(TARGET, lastStep);
        SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(sc, multiLayer(schedule), master);
        JavaRDD<DataSet> data = master.parallelizeEvenly(sc, minibatches(minibatches, 4));

        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            net.fit(data);
        }

        List<Seen> seen = KeepProbProbe.seen();
        assertEquals(EPOCHS * minibatches, seen.size(), "one forward pass per minibatch");
        assertEquals(lastStep, seen.stream().mapToInt(Seen::iteration).max().orElseThrow());
        assertEquals(EPOCHS - 1, seen.stream().mapToInt(Seen::epoch).max().orElseThrow());
        for (List<Seen> worker : lastRound(seen)) {
            assertEquals(TARGET, worker.get(worker.size() - 1).keepProb(), EPS);
        }
        assertNeverRises(seen);
        assertEquals(lastStep + 1, net.getNetwork().getIterationCount());
    }

    @Test
    void userHooksSeeTheCorrectedCountsAndStayTheUsersOwn() {
        IterationRecorder recorder = new IterationRecorder();
        ScheduleAwareTrainingMaster master =
                new ScheduleAwareTrainingMaster(paramAvg().trainingHooks(recorder));
        SparkComputationGraph net =
                new SparkComputationGraph(sc, graph(new LinearKeepProb(TARGET, 10)), master);
        int minibatches = WORKERS * AVERAGING * 2;

        net.fit(master.parallelizeEvenly(sc, minibatches(minibatches, 5)));

        List<Integer> seenByDropout =
                KeepProbProbe.seen().stream().map(Seen::iteration).sorted().toList();
        List<Integer> seenByHook = IterationRecorder.SEEN.stream().sorted().toList();
        assertEquals(seenByDropout, seenByHook);
        assertEquals(minibatches / WORKERS - 1, seenByHook.get(seenByHook.size() - 1));
        assertEquals(1, master.getTrainingHookList().size());
        assertSame(recorder, master.getTrainingHookList().iterator().next());
    }

    @Test
    void roundListenerReportsEveryRoundWithTheStepsDone() {
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        List<int[]> rounds = new ArrayList<>();
        master.setRoundListener(
                (round, total, steps, score) -> {
                    assertTrue(Double.isFinite(score), "score " + score);
                    rounds.add(new int[] {round, total, steps});
                });
        SparkComputationGraph net =
                new SparkComputationGraph(sc, graph(new LinearKeepProb(TARGET, 10)), master);
        int roundsPerEpoch = 2;

        net.fit(master.parallelizeEvenly(sc, minibatches(WORKERS * AVERAGING * roundsPerEpoch, 6)));

        assertEquals(roundsPerEpoch, rounds.size());
        for (int i = 0; i < roundsPerEpoch; i++) {
            assertEquals(i + 1, rounds.get(i)[0]);
            assertEquals(roundsPerEpoch, rounds.get(i)[1]);
            assertEquals((i + 1) * AVERAGING, rounds.get(i)[2]);
        }
    }

    @Test
    void stepsPerEpochCountsWholeRoundsOrSharesOfOne() {
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        assertEquals(AVERAGING, master.stepsPerEpoch(WORKERS * AVERAGING));
        assertEquals(AVERAGING, master.stepsPerEpoch(2 * WORKERS * AVERAGING - 1));
        assertEquals(2 * AVERAGING, master.stepsPerEpoch(2 * WORKERS * AVERAGING));
        assertEquals(1, master.stepsPerEpoch(1));
        assertEquals(2, master.stepsPerEpoch(WORKERS + 1));
        assertEquals(
                "minibatches must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> master.stepsPerEpoch(0))
                        .getMessage());
        ScheduleAwareTrainingMaster unsized =
                new ScheduleAwareTrainingMaster(
                        new ParameterAveragingTrainingMaster.Builder(BATCH));
        assertEquals(
                "numWorkers must be set in the builder to share out minibatches, got null",
                assertThrows(IllegalStateException.class, () -> unsized.stepsPerEpoch(4))
                        .getMessage());
    }

    @Test
    void parallelizeEvenlyKeepsWholeRoundsInOnePartitionPerWorker() {
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        JavaRDD<DataSet> rdd =
                master.parallelizeEvenly(sc, minibatches(2 * WORKERS * AVERAGING + WORKERS, 7));
        assertEquals(WORKERS, rdd.getNumPartitions());
        assertEquals(List.of(2 * AVERAGING, 2 * AVERAGING), rdd.glom().map(List::size).collect());
        assertEquals(3, master.parallelizeEvenly(sc, minibatches(3, 8)).count());
        List<DataSet> mixed = new ArrayList<>(minibatches(2, 9));
        mixed.add(new DataSet(Nd4j.zeros(DataType.FLOAT, 1, 4), Nd4j.zeros(DataType.FLOAT, 1, 2)));
        assertEquals(
                "minibatches must each hold batchSizePerWorker = 4 examples, minibatch 2 holds 1",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> master.parallelizeEvenly(sc, mixed))
                        .getMessage());
        assertEquals(
                "minibatches must not be empty, got []",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> master.parallelizeEvenly(sc, List.of()))
                        .getMessage());
    }

    @Test
    void nullBuilderIsRejected() {
        assertEquals(
                "builder must not be null, got null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new ScheduleAwareTrainingMaster(null))
                        .getMessage());
    }

    /** Records the worker's iteration count as a user's hook sees it before each minibatch. */
    static final class IterationRecorder implements TrainingHook {
        private static final long serialVersionUID = 1L;
        static final ConcurrentLinkedQueue<Integer> SEEN = new ConcurrentLinkedQueue<>();

        IterationRecorder() {
            SEEN.clear();
        }

        @Override
        public void preUpdate(org.nd4j.linalg.dataset.api.DataSet minibatch, Model model) {
            throw new AssertionError("graphs train on MultiDataSets");
        }

        @Override
        public void postUpdate(org.nd4j.linalg.dataset.api.DataSet minibatch, Model model) {}

        @Override
        public void preUpdate(MultiDataSet minibatch, Model model) {
            SEEN.add(((ComputationGraph) model).getConfiguration().getIterationCount());
        }

        @Override
        public void postUpdate(MultiDataSet minibatch, Model model) {}
    }

    private static ParameterAveragingTrainingMaster.Builder paramAvg() {
        return new ParameterAveragingTrainingMaster.Builder(WORKERS, BATCH)
                .batchSizePerWorker(BATCH)
                .averagingFrequency(AVERAGING)
                .workerPrefetchNumBatches(0)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                // parallelizeEvenly already gives each worker one partition of its own.
                .repartionData(Repartition.Never)
                .rngSeed(12345L);
    }

    private static ComputationGraphConfiguration graph(LinearKeepProb schedule) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Sgd(0.1))
                .graphBuilder()
                .addInputs("in")
                .addLayer(
                        "hidden",
                        new DenseLayer.Builder()
                                .nIn(4)
                                .nOut(8)
                                .activation(Activation.RELU)
                                .dropOut(new KeepProbProbe(schedule))
                                .build(),
                        "in")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunction.MCXENT)
                                .nIn(8)
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "hidden")
                .setOutputs("out")
                .build();
    }

    private static MultiLayerConfiguration multiLayer(LinearKeepProb schedule) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Sgd(0.1))
                .list()
                .layer(
                        new DenseLayer.Builder()
                                .nIn(4)
                                .nOut(8)
                                .activation(Activation.RELU)
                                .dropOut(new KeepProbProbe(schedule))
                                .build())
                .layer(
                        new OutputLayer.Builder(LossFunction.MCXENT)
                                .nIn(8)
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build())
                .build();
    }

    private static List<DataSet> minibatches(int count, long seed) {
        Nd4j.getRandom().setSeed(seed);
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            INDArray features = Nd4j.rand(DataType.FLOAT, BATCH, 4);
            INDArray labels = Nd4j.zeros(DataType.FLOAT, BATCH, 2);
            for (int row = 0; row < BATCH; row++) {
                labels.putScalar(row, features.getDouble(row, 0) > 0.5 ? 1 : 0, 1);
            }
            batches.add(new DataSet(features, labels));
        }
        return batches;
    }

    // The workers of the last round, each with what it saw in order.
    private static List<List<Seen>> lastRound(List<Seen> seen) {
        int lastStage = seen.stream().mapToInt(Seen::stage).max().orElseThrow();
        return byWorker(seen).entrySet().stream()
                .filter(e -> e.getKey().startsWith(lastStage + "/"))
                .map(Map.Entry::getValue)
                .toList();
    }

    // A worker is one task: one partition of one round's stage.
    private static Map<String, List<Seen>> byWorker(List<Seen> seen) {
        return seen.stream()
                .collect(
                        Collectors.groupingBy(
                                s -> s.stage() + "/" + s.partition(),
                                TreeMap::new,
                                Collectors.toList()));
    }

    // No worker's keep probability rises from one minibatch to its next, and each round starts
    // at or below where every earlier round ended, so over training it only falls or holds.
    private static void assertNeverRises(List<Seen> seen) {
        assertFalse(seen.isEmpty());
        for (List<Seen> worker : byWorker(seen).values()) {
            for (int i = 1; i < worker.size(); i++) {
                assertEquals(
                        worker.get(i - 1).iteration() + 1,
                        worker.get(i).iteration(),
                        "steps of " + worker);
                assertTrue(
                        worker.get(i).keepProb() <= worker.get(i - 1).keepProb(),
                        "keep of " + worker);
            }
        }
        TreeMap<Integer, List<Seen>> byRound =
                seen.stream()
                        .collect(
                                Collectors.groupingBy(
                                        Seen::stage, TreeMap::new, Collectors.toList()));
        double floorSoFar = 1;
        int lastStepSoFar = -1;
        for (List<Seen> round : byRound.values()) {
            int first = round.stream().mapToInt(Seen::iteration).min().orElseThrow();
            double highest = round.stream().mapToDouble(Seen::keepProb).max().orElseThrow();
            assertTrue(
                    first > lastStepSoFar, "round starts at " + first + " after " + lastStepSoFar);
            assertTrue(highest <= floorSoFar, "round keeps " + highest + " above " + floorSoFar);
            lastStepSoFar = round.stream().mapToInt(Seen::iteration).max().orElseThrow();
            floorSoFar = round.stream().mapToDouble(Seen::keepProb).min().orElseThrow();
        }
    }
}
