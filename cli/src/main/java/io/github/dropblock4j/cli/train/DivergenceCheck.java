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
 * finite exactly as long as every batch's loss was. Not thread safe: one trainer uses it.
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
        float loss = trainer.getLoss().getAccumulator(EvaluatorTrainingListener.TRAIN_EPOCH);
        if (!Float.isFinite(loss)) {
            throw new TrainingDivergedException(
                    String.format(
                            Locale.ROOT,
                            "training diverged: loss %s at epoch %d, step %d (--lr %s); try a"
                                    + " smaller --lr",
                            loss,
                            (step - 1) / stepsPerEpoch + 1,
                            step,
                            lr));
        }
    }
}
