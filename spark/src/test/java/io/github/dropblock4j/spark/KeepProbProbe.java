package io.github.dropblock4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * A dropout that drops nothing and records, for every training forward pass, the iteration and
 * epoch the layer was given and the keep probability a schedule gives for them, with the Spark
 * stage and partition that ran it. local[N] runs the workers as threads of the test's JVM, so the
 * records land in one static list.
 */
final class KeepProbProbe implements IDropout {

    private static final long serialVersionUID = 1L;

    /** What one worker's forward pass saw. */
    record Seen(int stage, int partition, int iteration, int epoch, double keepProb) {}

    private static final ConcurrentLinkedQueue<Seen> SEEN = new ConcurrentLinkedQueue<>();

    private final ISchedule keepProb;

    KeepProbProbe(ISchedule keepProb) {
        this.keepProb = keepProb;
    }

    static void forget() {
        SEEN.clear();
    }

    static List<Seen> seen() {
        return new ArrayList<>(SEEN);
    }

    @Override
    public INDArray applyDropout(
            INDArray inputActivations,
            INDArray resultArray,
            int iteration,
            int epoch,
            LayerWorkspaceMgr workspaceMgr) {
        TaskContext task = TaskContext.get();
        SEEN.add(
                new Seen(
                        task == null ? -1 : task.stageId(),
                        task == null ? -1 : task.partitionId(),
                        iteration,
                        epoch,
                        keepProb.valueAt(iteration, epoch)));
        return resultArray.assign(inputActivations);
    }

    @Override
    public INDArray backprop(
            INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
        return gradAtInput.assign(gradAtOutput);
    }

    @Override
    public void clear() {}

    @Override
    public KeepProbProbe clone() {
        return new KeepProbProbe(keepProb.clone());
    }
}
