package io.github.dropblock4j.spark;

import io.github.dropblock4j.core.DropCount;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's parameter averaging on Spark, with iteration and epoch counts that follow the true
 * progress of training on every worker, so that schedules keyed on them (the keep probability of
 * DropBlock, arXiv 1810.12890, section 3, learning rates) advance as they would on one machine.
 *
 * <p>DL4J 1.0.0-M2 gets both counts wrong on the workers: each worker's network is built from a
 * clone of the configuration that restarts at iteration 0 and epoch 0 in every averaging round, and
 * the driver adds the averaging frequency to its count after a round whatever the workers did. This
 * master instead counts <em>steps</em>: one step is one minibatch on every worker side by side, the
 * iteration that averaging moves the shared parameters along. A round starts at the driver's step
 * count; a worker's {@code k}-th minibatch of the round (from 0) trains at iteration {@code steps +
 * k} and at the driver's epoch; after the round the driver's count becomes {@code steps} plus the
 * most minibatches any worker fitted. So no worker ever sees its iteration go back, and a saved
 * model carries the true count. The epoch is the driver's, which {@code fit} advances once per
 * call.
 *
 * <p>On an RDD from {@link #parallelizeEvenly} every worker fits the same minibatches each round,
 * and an epoch takes exactly {@link #stepsPerEpoch(int)} steps: a schedule sized by it reaches its
 * end on the last step of training.
 *
 * <p>Every other behaviour is DL4J's {@link ParameterAveragingTrainingMaster}, configured by its
 * {@link ParameterAveragingTrainingMaster.Builder}. Used on the driver from one thread; not thread
 * safe.
 */
public final class ScheduleAwareTrainingMaster extends ParameterAveragingTrainingMaster {

    private static final long serialVersionUID = 1L;

    private transient RoundListener roundListener;
    private transient int roundFirstStep;
    private transient StepCountAccumulator roundSteps;
    private transient CollectionAccumulator<WorkerFacts> workerFacts;
    private transient LongAccumulator unitsSeen;
    private transient LongAccumulator unitsDropped;
    private transient DropCount dropsTaken = DropCount.NONE;

    /**
     * Creates a master from DL4J's builder, which sets every option of parameter averaging.
     *
     * @param builder the configured builder, e.g. {@code new
     *     ParameterAveragingTrainingMaster.Builder(2, 32).batchSizePerWorker(32)
     *     .averagingFrequency(5)} for 2 workers fitting minibatches of 32
     * @throws IllegalArgumentException if the builder is null
     */
    public ScheduleAwareTrainingMaster(ParameterAveragingTrainingMaster.Builder builder) {
        super(checkBuilder(builder));
    }

    private static ParameterAveragingTrainingMaster.Builder checkBuilder(
            ParameterAveragingTrainingMaster.Builder builder) {
        if (builder == null) {
            throw new IllegalArgumentException("builder must not be null, got null");
        }
        return builder;
    }

    /**
     * Spreads minibatches over the workers in whole rounds: {@code numWorkers} partitions, each
     * holding the same multiple of {@code averagingFrequency} minibatches. DL4J gives a worker at
     * most {@code averagingFrequency} minibatches a round and silently skips the rest of its share,
     * and shares a round out unevenly unless every partition divides evenly among the rounds; on
     * this RDD every worker fits exactly {@code averagingFrequency} minibatches each round and
     * nothing is skipped. Minibatches beyond the last whole round (fewer than {@code numWorkers *
     * averagingFrequency}) are left out, as DL4J would skip them anyway: shuffle between epochs so
     * that different ones are left out. Fewer minibatches than one round are all kept, spread over
     * the workers.
     *
     * @param sc the Spark context
     * @param minibatches the minibatches, each of {@code batchSizePerWorker} examples
     * @return the RDD to pass to {@code fit}, of {@link #stepsPerEpoch(int)} steps
     * @throws IllegalArgumentException if a minibatch has another size or there are none
     * @throws IllegalStateException if the builder did not set the number of workers
     */
    public JavaRDD<DataSet> parallelizeEvenly(JavaSparkContext sc, List<DataSet> minibatches) {
        if (minibatches == null || minibatches.isEmpty()) {
            throw new IllegalArgumentException("minibatches must not be empty, got " + minibatches);
        }
        for (int i = 0; i < minibatches.size(); i++) {
            if (minibatches.get(i).numExamples() != batchSizePerWorker) {
                throw new IllegalArgumentException(
                        "minibatches must each hold batchSizePerWorker = "
                                + batchSizePerWorker
                                + " examples, minibatch "
                                + i
                                + " holds "
                                + minibatches.get(i).numExamples());
            }
        }
        int workers = workers();
        int round = workers * averagingFrequency;
        int kept =
                minibatches.size() < round
                        ? minibatches.size()
                        : minibatches.size() / round * round;
        // parallelize slices a list into contiguous, equal parts.
        return sc.parallelize(minibatches.subList(0, kept), workers);
    }

    /**
     * Returns the steps an epoch of {@code minibatches} takes on an RDD made by {@link
     * #parallelizeEvenly}: {@code averagingFrequency} per whole round, or {@code ceil(minibatches /
     * numWorkers)} when there are fewer minibatches than one round. Size a schedule by it: a ramp
     * that ends at iteration {@code epochs * stepsPerEpoch - 1} ends on the last step.
     *
     * @param minibatches the minibatches in an epoch, at least 1
     * @return the steps of one epoch
     * @throws IllegalArgumentException if {@code minibatches} is below 1
     * @throws IllegalStateException if the builder did not set the number of workers
     */
    public int stepsPerEpoch(int minibatches) {
        if (minibatches < 1) {
            throw new IllegalArgumentException("minibatches must be >= 1, got " + minibatches);
        }
        int workers = workers();
        int rounds = minibatches / (workers * averagingFrequency);
        return rounds == 0 ? (minibatches + workers - 1) / workers : rounds * averagingFrequency;
    }

    private int workers() {
        if (numWorkers == null) {
            throw new IllegalStateException(
                    "numWorkers must be set in the builder to share out minibatches, got null");
        }
        return numWorkers;
    }

    /**
     * Returns what the workers reported about the JVMs they trained in, one entry per distinct
     * executor and facts, over every round this master has run.
     *
     * @return the facts, sorted by executor id; empty before the first round
     */
    public List<WorkerFacts> workerFacts() {
        if (workerFacts == null) {
            return List.of();
        }
        return workerFacts.value().stream()
                .distinct()
                .sorted(Comparator.comparing(WorkerFacts::executorId))
                .toList();
    }

    /**
     * Returns the units the workers' DropBlocks saw and zeroed in their training forwards since the
     * last call, over every worker and round, and starts counting afresh: the realised drop rate of
     * those steps is its {@link DropCount#rate()}. A task that Spark retries counts its minibatches
     * again.
     *
     * @return the counts since the last call; {@link DropCount#NONE} before the first round
     */
    public DropCount takeDropCount() {
        if (unitsSeen == null) {
            return DropCount.NONE;
        }
        DropCount total = new DropCount(unitsSeen.value(), unitsDropped.value());
        DropCount since =
                new DropCount(
                        total.units() - dropsTaken.units(), total.dropped() - dropsTaken.dropped());
        dropsTaken = total;
        return since;
    }

    /**
     * Sets the listener called on the driver after each averaging round.
     *
     * @param listener the listener, or null for none
     */
    public void setRoundListener(RoundListener listener) {
        this.roundListener = listener;
    }

    /** {@inheritDoc} */
    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        MultiLayerConfiguration conf = network.getNetwork().getLayerWiseConfigurations();
        return withProgressHook(
                network.getSparkContext(),
                conf.getIterationCount(),
                conf.getEpochCount(),
                () -> super.getWorkerInstance(network));
    }

    /** {@inheritDoc} */
    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        ComputationGraphConfiguration conf = graph.getNetwork().getConfiguration();
        return withProgressHook(
                graph.getSparkContext(),
                conf.getIterationCount(),
                conf.getEpochCount(),
                () -> super.getWorkerInstance(graph));
    }

    // DL4J asks for a worker instance once per round, just before it ships the round to Spark.
    private ParameterAveragingTrainingWorker withProgressHook(
            JavaSparkContext sc,
            int firstStep,
            int epoch,
            Supplier<ParameterAveragingTrainingWorker> create) {
        roundFirstStep = firstStep;
        roundSteps = new StepCountAccumulator();
        sc.sc().register(roundSteps, "dropblock4j steps done");
        if (workerFacts == null) {
            workerFacts = sc.sc().collectionAccumulator("dropblock4j worker facts");
            unitsSeen = sc.sc().longAccumulator("dropblock4j DropBlock units seen");
            unitsDropped = sc.sc().longAccumulator("dropblock4j DropBlock units dropped");
            dropsTaken = DropCount.NONE;
        }
        Collection<TrainingHook> userHooks = trainingHookList;
        // First, so that the user's hooks see the corrected counts.
        List<TrainingHook> hooks = new ArrayList<>();
        hooks.add(
                new WorkerProgressHook(
                        firstStep, epoch, roundSteps, workerFacts, unitsSeen, unitsDropped));
        if (userHooks != null) {
            hooks.addAll(userHooks);
        }
        trainingHookList = hooks;
        try {
            return create.get();
        } finally {
            trainingHookList = userHooks;
        }
    }

    /** {@inheritDoc} */
    @Override
    protected void processResults(
            SparkDl4jMultiLayer network,
            SparkComputationGraph graph,
            JavaRDD<ParameterAveragingTrainingResult> results,
            int splitNum,
            int totalSplits) {
        super.processResults(network, graph, results, splitNum, totalSplits);
        // Replaces DL4J's count, which added the averaging frequency whatever the workers did.
        int steps = Math.max(roundFirstStep, roundSteps.value());
        double score;
        if (network != null) {
            network.getNetwork().getLayerWiseConfigurations().setIterationCount(steps);
            score = network.getScore();
        } else {
            graph.getNetwork().getConfiguration().setIterationCount(steps);
            score = graph.getScore();
        }
        if (roundListener != null) {
            roundListener.roundDone(splitNum, totalSplits, steps, score);
        }
    }
}
