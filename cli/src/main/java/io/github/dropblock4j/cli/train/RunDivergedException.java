package io.github.dropblock4j.cli.train;

import java.util.Locale;

/**
 * Training stopped at the first step whose loss was not finite, whatever the framework. The message
 * names the loss, the epoch, the step and the learning rate, and what to try.
 */
public final class RunDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param loss the step's loss
     * @param epoch the step's epoch, 1-based
     * @param step the step, 1-based over the run
     * @param lr the run's initial learning rate
     */
    public RunDivergedException(double loss, int epoch, int step, float lr) {
        super(
                String.format(
                        Locale.ROOT,
                        "training diverged: loss %s at epoch %d, step %d (--lr %s); try a smaller"
                                + " --lr",
                        loss,
                        epoch,
                        step,
                        lr));
    }
}
