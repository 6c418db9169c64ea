package io.github.dropblock4j.cli.run;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of a finished training run; written as {@code summary.json}. The figures are the last
 * epoch's: no epoch is picked by its test accuracy.
 *
 * @param config the run's settings
 * @param epochs the per-epoch metrics
 * @param finalTestAccuracy the test accuracy after the last epoch
 * @param finalTestLoss the mean test loss after the last epoch
 * @param finalValidationAccuracy the validation accuracy after the last epoch (NaN without a
 *     validation set)
 * @param wallSeconds training and testing time over all epochs, resumed parts included
 * @param samplesPerSecond training images per second over the whole run
 * @param steps the global training steps done
 * @param recalibrated the held-out figures after the batch norms were recalibrated ({@code
 *     --recalibrate-bn}), of the same trained weights as the final figures, which are those before;
 *     null when not recalibrated (and in files written before the option existed)
 */
public record RunSummary(
        TrainConfig config,
        List<EpochMetrics> epochs,
        double finalTestAccuracy,
        double finalTestLoss,
        double finalValidationAccuracy,
        double wallSeconds,
        double samplesPerSecond,
        int steps,
        HeldOutFigures recalibrated) {

    /**
     * Returns the last epoch's training accuracy minus its test accuracy: how far the network
     * overfits. The training accuracy is the one measured over the epoch's batches, with the
     * regularizer on.
     *
     * @return the gap, in accuracy units (0.05 is 5 points)
     */
    public double finalTrainTestGap() {
        return epochs.get(epochs.size() - 1).trainAccuracy() - finalTestAccuracy;
    }

    /**
     * Returns this run as its recalibrated network measured: the final test and validation figures
     * replaced by those after the batch norms were recalibrated; the epochs, time and steps stay.
     *
     * @return the run's recalibrated figures; empty when it was not recalibrated
     */
    public Optional<RunSummary> asRecalibrated() {
        if (recalibrated == null) {
            return Optional.empty();
        }
        return Optional.of(
                new RunSummary(
                        config,
                        epochs,
                        recalibrated.testAccuracy(),
                        recalibrated.testLoss(),
                        recalibrated.validationAccuracy(),
                        wallSeconds,
                        samplesPerSecond,
                        steps,
                        recalibrated));
    }
}
