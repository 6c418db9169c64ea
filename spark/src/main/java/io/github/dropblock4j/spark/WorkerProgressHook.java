package io.github.dropblock4j.spark;

import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.Nd4jThreads;
import io.github.dropblock4j.dl4j.OneDnn;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Sets a worker's iteration and epoch counts to the true progress of training before each of its
 * minibatches, and reports the steps it has done.
 *
 * <p>DL4J builds each worker's network from a clone of the broadcast configuration, and the clone
 * drops the iteration and epoch counts ({@code ComputationGraphConfiguration.clone()} in 1.0.0-M2
 * copies neither), so without this hook every worker restarts its schedules at iteration 0, epoch 0
 * in every averaging round. The hook carries the step count and epoch of the driver at the start of
 * the round; the worker's {@code k}-th minibatch of the round (from 0) trains at iteration {@code
 * firstStep + k} and at the driver's epoch.
 *
 * <p>At the start of each task it also sizes the task thread's native threads ({@link
 * WorkerThreads#sizeThisWorkerThread()}) and reports what the task's JVM runs with ({@link
 * WorkerFacts}). After each minibatch it reports the units the worker's DropBlocks saw and zeroed
 * in its training forward ({@link DropBlock#takeDropCount(ComputationGraph)}), for the realised
 * drop rate on the driver.
 *
 * <p>One copy per Spark task, used by that task's thread only.
 */
final class WorkerProgressHook implements TrainingHook {

    private static final long serialVersionUID = 1L;

    private final int firstStep;
    private final int epoch;
    private final StepCountAccumulator stepsDone;
    private final CollectionAccumulator<WorkerFacts> facts;
    private final LongAccumulator unitsSeen;
    private final LongAccumulator unitsDropped;
    private transient Model model;
    private transient int stepsHere;

    /**
     * Creates the hook of one averaging round.
     *
     * @param firstStep the steps done before the round
     * @param epoch the epochs done before the round
     * @param stepsDone where workers report the steps done, merged on the driver
     * @param facts where workers report their JVM's {@link WorkerFacts}, once per task
     * @param unitsSeen where workers add the units their DropBlocks saw in training forwards
     * @param unitsDropped where workers add the units their DropBlocks zeroed
     */
    WorkerProgressHook(
            int firstStep,
            int epoch,
            StepCountAccumulator stepsDone,
            CollectionAccumulator<WorkerFacts> facts,
            LongAccumulator unitsSeen,
            LongAccumulator unitsDropped) {
        this.firstStep = firstStep;
        this.epoch = epoch;
        this.stepsDone = stepsDone;
        this.facts = facts;
        this.unitsSeen = unitsSeen;
        this.unitsDropped = unitsDropped;
    }

    /** {@inheritDoc} */
    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        beforeStep(model);
    }

    /** {@inheritDoc} */
    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        afterStep(model);
    }

    /** {@inheritDoc} */
    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        beforeStep(model);
    }

    /** {@inheritDoc} */
    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        afterStep(model);
    }

    private void beforeStep(Model worker) {
        if (!(worker instanceof ComputationGraph) && !(worker instanceof MultiLayerNetwork)) {
            throw new IllegalStateException(
                    "model must be a ComputationGraph or a MultiLayerNetwork, got "
                            + worker.getClass().getName());
        }
        if (worker != model) {
            // A new task, perhaps on another thread: OpenMP's thread count is per thread.
            WorkerThreads.sizeThisWorkerThread();
            model = worker;
            stepsHere = 0;
            SparkEnv env = SparkEnv.get();
            facts.add(
                    new WorkerFacts(
                            env == null ? "none" : env.executorId(),
                            env == null ? "none" : env.blockManager().blockManagerId().host(),
                            worker instanceof ComputationGraph
                                    ? OneDnn.describe((ComputationGraph) worker)
                                    : OneDnn.describe((MultiLayerNetwork) worker),
                            Nd4jThreads.ofThisThread()));
        }
        int iteration = firstStep + stepsHere;
        // fit() copies these counts into every layer before the forward pass.
        if (worker instanceof ComputationGraph) {
            ((ComputationGraph) worker).getConfiguration().setIterationCount(iteration);
            ((ComputationGraph) worker).getConfiguration().setEpochCount(epoch);
        } else {
            ((MultiLayerNetwork) worker).getLayerWiseConfigurations().setIterationCount(iteration);
            ((MultiLayerNetwork) worker).getLayerWiseConfigurations().setEpochCount(epoch);
        }
    }

    private void afterStep(Model worker) {
        stepsHere++;
        stepsDone.add(firstStep + stepsHere);
        DropCount drops =
                worker instanceof ComputationGraph
                        ? DropBlock.takeDropCount((ComputationGraph) worker)
                        : DropBlock.takeDropCount((MultiLayerNetwork) worker);
        unitsSeen.add(drops.units());
        unitsDropped.add(drops.dropped());
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "WorkerProgressHook(firstStep=" + firstStep + ", epoch=" + epoch + ")";
    }
}
