package io.github.dropblock4j.cli.run;

import java.util.Locale;

/**
 * What one training epoch measured; one row of {@code metrics.csv}.
 *
 * @param epoch the epoch, 1-based
 * @param step the global training steps done at the end of the epoch
 * @param trainLoss the mean training loss over the epoch's batches
 * @param trainAccuracy the training accuracy over the epoch's batches (with the regularizer on)
 * @param testLoss the mean test loss, in evaluation mode; NaN in an epoch without a test pass
 *     ({@code --test-every})
 * @param testAccuracy the test accuracy, in evaluation mode; NaN in an epoch without a test pass
 * @param validationLoss the mean validation loss, in evaluation mode; NaN without a validation set
 * @param validationAccuracy the validation accuracy, in evaluation mode; NaN without a validation
 *     set
 * @param dropProb the scheduled drop probability at the end of the epoch
 * @param learningRate the learning rate at the end of the epoch
 * @param seconds the epoch's training time, without the test pass
 * @param samplesPerSecond training images per second
 * @param residentMb the process's resident memory at the end of the epoch, in MiB (NaN where
 *     unknown): a leak of native arrays shows here
 */
public record EpochMetrics(
        int epoch,
        int step,
        double trainLoss,
        double trainAccuracy,
        double testLoss,
        double testAccuracy,
        double validationLoss,
        double validationAccuracy,
        double dropProb,
        double learningRate,
        double seconds,
        double samplesPerSecond,
        double residentMb) {

    /** The header of {@code metrics.csv}. */
    public static final String CSV_HEADER =
            "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,validation_loss,"
                    + "validation_accuracy,drop_prob,learning_rate,seconds,"
                    + "samples_per_second,resident_mb";

    /**
     * Returns this row in {@code metrics.csv} format.
     *
     * @return the CSV line, without a line break
     */
    public String toCsv() {
        return String.format(
                Locale.ROOT,
                "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f,%.1f",
                epoch,
                step,
                trainLoss,
                trainAccuracy,
                testLoss,
                testAccuracy,
                validationLoss,
                validationAccuracy,
                dropProb,
                learningRate,
                seconds,
                samplesPerSecond,
                residentMb);
    }
}
