package io.github.dropblock4j.djl;

import ai.djl.Model;
import ai.djl.metric.Metrics;
import ai.djl.nn.Block;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.tracker.LinearTracker;
import ai.djl.training.tracker.Tracker;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.DropCount;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A training listener that drives the drop probability of every {@link DropBlock} in the trained
 * model from a DJL {@link Tracker} evaluated at the global training step.
 *
 * <p>The DropBlock paper (arXiv 1810.12890, section 3) found that decreasing keep_prob linearly
 * from 1 to its target over training works better than a fixed keep_prob: {@link #linear(float,
 * int)} is that schedule. Any DJL tracker (linear, cosine, warm-up, factor) can be used instead.
 * The step counts training batches only: validation and evaluation passes never advance it. Step
 * {@code k} (0-based) trains with {@code tracker.getNewValue(k) * block.getScheduleWeight()}.
 *
 * <p>Resumable: the step is stored in the model's properties under {@link #STEP_PROPERTY} after
 * every training batch, so a model saved with {@code Model.save} and loaded again continues the
 * schedule where it stopped instead of restarting it.
 *
 * <p>When the trainer collects metrics ({@code trainer.setMetrics(new Metrics())}), every training
 * batch adds the drop probability it trained with, before each block's weight, to them as {@link
 * #DROP_PROB_METRIC}, where DJL's listeners and the caller read it next to the loss, and the
 * fraction of units the batch's forwards actually zeroed over all DropBlocks of the model as {@link
 * #REALISED_DROP_RATE_METRIC}. The realised rate costs nothing more where masks are painted on the
 * host, which counts the drops anyway; where they are drawn with engine operators (off the CPU) the
 * blocks count only while metrics are collected ({@link DropBlock#setDropCounting(boolean)}), and
 * during the first batch, so that metrics set right after {@code newTrainer} miss none.
 *
 * <p>Not thread safe: DJL calls a listener from the training loop's thread.
 */
public final class DropBlockScheduler extends TrainingListenerAdapter {

    /** The model property holding the number of training steps done. */
    public static final String STEP_PROPERTY = "dropblock4j.scheduler.step";

    /** The name of the metric holding the scheduled drop probability of each training batch. */
    public static final String DROP_PROB_METRIC = "dropblock_drop_prob";

    /**
     * The name of the metric holding the realised drop rate of each training batch: the units its
     * forwards zeroed over the units they saw, summed over every {@link DropBlock} of the model
     * ({@link DropBlock#takeDropCount()}). Absent for a batch no DropBlock saw.
     */
    public static final String REALISED_DROP_RATE_METRIC = "dropblock_realised_drop_rate";

    private final Tracker tracker;
    private List<DropBlock> dropBlocks = Collections.emptyList();
    private Model model;
    private int step;
    // The scheduled value the blocks hold now, before their weights.
    private float dropProb;
    // Whether the blocks count engine-drawn masks, i.e. whether the trainer collects metrics.
    private boolean countingDrops;

    private DropBlockScheduler(Tracker tracker) {
        this.tracker = tracker;
    }

    /**
     * Creates a scheduler that follows a tracker.
     *
     * @param tracker gives the drop probability at each training step; values must be in [0, 1)
     * @return the scheduler, to add with {@code TrainingConfig.addTrainingListeners}
     */
    public static DropBlockScheduler of(Tracker tracker) {
        return new DropBlockScheduler(Objects.requireNonNull(tracker, "tracker"));
    }

    /**
     * Creates the paper's schedule: the drop probability rises linearly from 0 at step 0 to {@code
     * targetDropProb} at step {@code totalSteps}, and holds there.
     *
     * @param targetDropProb the final drop probability, 1 - keep_prob, in [0, 1)
     * @param totalSteps the number of training steps of the ramp, at least 1
     * @return the scheduler
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static DropBlockScheduler linear(float targetDropProb, int totalSteps) {
        DropBlockGamma.checkDropProb(targetDropProb);
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        }
        if (targetDropProb == 0) {
            return of(Tracker.fixed(0f));
        }
        Tracker ramp =
                LinearTracker.builder()
                        .setBaseValue(0f)
                        .optSlope(targetDropProb / totalSteps)
                        .optMaxUpdates(totalSteps)
                        .build();
        // Float rounding of slope * totalSteps must not overshoot the target.
        return of(step -> Math.min(ramp.getNewValue(step), targetDropProb));
    }

    /**
     * Returns every {@link DropBlock} in a block tree, in depth-first order.
     *
     * @param root the block to search
     * @return the DropBlocks found
     */
    public static List<DropBlock> dropBlocksIn(Block root) {
        List<DropBlock> found = new ArrayList<>();
        collect(root, found);
        return found;
    }

    private static void collect(Block block, List<DropBlock> found) {
        if (block instanceof DropBlock) {
            found.add((DropBlock) block);
        }
        for (Block child : block.getChildren().values()) {
            collect(child, found);
        }
    }

    /**
     * Returns the number of training steps done, i.e. the step the next training batch runs at.
     *
     * @return the step
     */
    public int getStep() {
        return step;
    }

    /**
     * Returns the scheduled drop probability at a step, before each block's weight.
     *
     * @param atStep the training step
     * @return the tracker's value
     */
    public float dropProbAt(int atStep) {
        return tracker.getNewValue(atStep);
    }

    /** {@inheritDoc} */
    @Override
    public void onTrainingBegin(Trainer trainer) {
        model = trainer.getModel();
        dropBlocks = dropBlocksIn(model.getBlock());
        countingDrops = false;
        for (DropBlock dropBlock : dropBlocks) {
            dropBlock.setDropCounting(false);
        }
        // The first batch counts whatever: DJL's trainer calls this from its constructor, before
        // the caller can set its metrics; from then on each batch decides for the next one.
        countDrops(true);
        for (DropBlock dropBlock : dropBlocks) {
            // Forwards before training, e.g. an initialisation pass, are not a batch's.
            dropBlock.takeDropCount();
        }
        String saved = model.getProperty(STEP_PROPERTY);
        step = 0;
        if (saved != null) {
            try {
                step = Integer.parseInt(saved);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "model property " + STEP_PROPERTY + " must be a step count, got " + saved,
                        e);
            }
            if (step < 0) {
                throw new IllegalArgumentException(
                        "model property " + STEP_PROPERTY + " must be >= 0, got " + saved);
            }
        }
        apply();
    }

    /** {@inheritDoc} */
    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        Metrics metrics = trainer.getMetrics();
        DropCount realised = DropCount.NONE;
        for (DropBlock dropBlock : dropBlocks) {
            realised = realised.plus(dropBlock.takeDropCount());
        }
        if (metrics != null) {
            metrics.addMetric(DROP_PROB_METRIC, dropProb);
            if (realised.units() > 0) {
                metrics.addMetric(REALISED_DROP_RATE_METRIC, realised.rate());
            }
        }
        // Metrics may be set or removed between batches: count from the next batch on.
        countDrops(metrics != null);
        step++;
        model.setProperty(STEP_PROPERTY, Integer.toString(step));
        apply();
    }

    private void countDrops(boolean counting) {
        if (counting != countingDrops) {
            for (DropBlock dropBlock : dropBlocks) {
                dropBlock.setDropCounting(counting);
            }
            countingDrops = counting;
        }
    }

    private void apply() {
        float value = tracker.getNewValue(step);
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(
                    "the tracker's drop probability must be in [0, 1), got "
                            + value
                            + " at step "
                            + step);
        }
        for (DropBlock dropBlock : dropBlocks) {
            dropBlock.setDropProb(value * dropBlock.getScheduleWeight());
        }
        dropProb = value;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "DropBlockScheduler(step=" + step + ", dropProb=" + tracker.getNewValue(step) + ")";
    }
}
