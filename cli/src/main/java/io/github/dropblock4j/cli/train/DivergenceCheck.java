package io.github.dropblock4j.cli.train;

import ai.djl.TrainingDivergedException;
import ai.djl.training.Trainer;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import java.util.Locale;

/**
 * Ends training with a {@link TrainingDivergedException} at the first training batch whose loss is
 * not finite, naming the epoch, the step and the learning rate. It reads the epoch's running mean
 * loss that an {@link EvaluatorTrainingListener} earlier in the listener list keeps: the mean is
 * finite exactly as long as every batch's loss was. The DL4J loop calls {@link #requireFinite}
 * itself, so both report divergence alike. Not thread safe: one trainer uses it.
 */
final class DivergenceCheck extends TrainingListenerAdapter {

    private final float lr;
    private final int stepsPerEpoch;
    private int step;

    /**
     * Creates the check.
     *
     * @param lr the run's initial learning rate, for the message
     * @param stepsDone the training steps done before this trainer's first batch
     * @param stepsPerEpoch the training steps of one epoch
     */
    DivergenceCheck(float lr, int stepsDone, int stepsPerEpoch) {
        this.lr = lr;
        this.step = stepsDone;
        this.stepsPerEpoch = stepsPerEpoch;
    }

    /** {@inheritDoc} */
    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        step++;
        requireFinite(
                trainer.getLoss().getAccumulator(EvaluatorTrainingListener.TRAIN_EPOCH),
                (step - 1) / stepsPerEpoch + 1,
                step,
                lr);
    }

    /**
     * Ends training if a loss is not finite; the check of every training loop, DJL's or DL4J's.
     *
     * @param loss the training loss after a step
     * @param epoch the step's epoch, 1-based
     * @param step the step, 1-based over the run
     * @param lr the run's initial learning rate, for the message
     * @throws TrainingDivergedException naming the loss, the epoch, the step and the learning rate
     */
    static void requireFinite(double loss, int epoch, int step, float lr) {
        if (!Double.isFinite(loss)) {
            throw new TrainingDivergedException(
                    String.format(
                            Locale.ROOT,
                            "training diverged: loss %s at epoch %d, step %d (--lr %s); try a"
                                    + " smaller --lr",
                            loss,
                            epoch,
                            step,
                            lr));
        }
    }
}
