package io.github.dropblock4j.cli.run;

import java.util.Locale;

/**
 * What one training epoch measured; one row of {@code metrics.csv}. Built by name with {@link
 * #builder()}: a figure an epoch did not measure is NaN.
 *
 * @param epoch the epoch, 1-based
 * @param step the global training steps done at the end of the epoch
 * @param trainLoss the mean training loss over the epoch's training images, each measured in the
 *     step that trained on it (with the regularizer on)
 * @param trainAccuracy the training accuracy over the epoch's training images, measured as the loss
 *     is; NaN where the training loop cannot see it ({@code spark-train})
 * @param testLoss the mean test loss, in evaluation mode; NaN in an epoch without a test pass
 *     ({@code --test-every})
 * @param testAccuracy the test accuracy, in evaluation mode; NaN in an epoch without a test pass
 * @param validationLoss the mean validation loss, in evaluation mode; NaN without a validation set
 * @param validationAccuracy the validation accuracy, in evaluation mode; NaN without a validation
 *     set
 * @param dropProb the scheduled drop probability of the epoch's last training step
 * @param learningRate the learning rate of the epoch's last training step
 * @param seconds the epoch's training time, without the held-out passes
 * @param samplesPerSecond training images per second
 * @param residentMb the process's resident memory at the end of the epoch, in MiB (NaN where
 *     unknown): a leak of native arrays shows here
 * @param trainEvalAccuracy the accuracy over all training images in evaluation mode after the epoch
 *     (regularizer off); NaN where not measured ({@code train})
 * @param realisedDropRate the fraction of units the epoch's training forwards zeroed over every
 *     DropBlock of the network, next to the requested {@code dropProb}: 0 without DropBlock, NaN
 *     where not measured (an epoch that trained no batch in this process, files written before the
 *     column existed)
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
        double residentMb,
        double trainEvalAccuracy,
        double realisedDropRate) {

    /** The header of {@code metrics.csv}; columns are only ever added at the end. */
    public static final String CSV_HEADER =
            "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,validation_loss,"
                    + "validation_accuracy,drop_prob,learning_rate,seconds,"
                    + "samples_per_second,resident_mb,train_eval_accuracy,realised_drop_rate";

    /**
     * Checks the counts.
     *
     * @throws IllegalArgumentException naming the field if the epoch is below 1 or the step below 0
     */
    public EpochMetrics {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }

    /**
     * Returns a builder of one epoch's row, every figure NaN until set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns this row in {@code metrics.csv} format.
     *
     * @return the CSV line, without a line break
     */
    public String toCsv() {
        return String.format(
                Locale.ROOT,
                "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f,%.1f,%.6f,%.6f",
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
                residentMb,
                trainEvalAccuracy,
                realisedDropRate);
    }

    /** Builds an {@link EpochMetrics} by name. Not thread safe. */
    public static final class Builder {

        private int epoch;
        private int step = -1;
        private double trainLoss = Double.NaN;
        private double trainAccuracy = Double.NaN;
        private double testLoss = Double.NaN;
        private double testAccuracy = Double.NaN;
        private double validationLoss = Double.NaN;
        private double validationAccuracy = Double.NaN;
        private double dropProb = Double.NaN;
        private double learningRate = Double.NaN;
        private double seconds = Double.NaN;
        private double samplesPerSecond = Double.NaN;
        private double residentMb = Double.NaN;
        private double trainEvalAccuracy = Double.NaN;
        private double realisedDropRate = Double.NaN;

        private Builder() {}

        /**
         * Sets the epoch.
         *
         * @param epoch 1-based
         * @return this builder
         */
        public Builder setEpoch(int epoch) {
            this.epoch = epoch;
            return this;
        }

        /**
         * Sets the global training steps done at the end of the epoch.
         *
         * @param step at least 0
         * @return this builder
         */
        public Builder setStep(int step) {
            this.step = step;
            return this;
        }

        /**
         * Sets the training loss and accuracy of the epoch's training steps. Default to NaN.
         *
         * @param loss the mean training loss
         * @param accuracy the training accuracy, or NaN if not measured
         * @return this builder
         */
        public Builder optTrain(double loss, double accuracy) {
            this.trainLoss = loss;
            this.trainAccuracy = accuracy;
            return this;
        }

        /**
         * Sets the test loss and accuracy. Default to NaN, no test pass.
         *
         * @param loss the mean test loss
         * @param accuracy the test accuracy
         * @return this builder
         */
        public Builder optTest(double loss, double accuracy) {
            this.testLoss = loss;
            this.testAccuracy = accuracy;
            return this;
        }

        /**
         * Sets the validation loss and accuracy. Default to NaN, no validation set.
         *
         * @param loss the mean validation loss
         * @param accuracy the validation accuracy
         * @return this builder
         */
        public Builder optValidation(double loss, double accuracy) {
            this.validationLoss = loss;
            this.validationAccuracy = accuracy;
            return this;
        }

        /**
         * Sets the drop probability and learning rate of the epoch's last step. Default to NaN.
         *
         * @param dropProb the scheduled drop probability
         * @param learningRate the learning rate
         * @return this builder
         */
        public Builder optSchedules(double dropProb, double learningRate) {
            this.dropProb = dropProb;
            this.learningRate = learningRate;
            return this;
        }

        /**
         * Sets the epoch's training time and throughput. Default to NaN.
         *
         * @param seconds the training time
         * @param samplesPerSecond training images per second
         * @return this builder
         */
        public Builder optSpeed(double seconds, double samplesPerSecond) {
            this.seconds = seconds;
            this.samplesPerSecond = samplesPerSecond;
            return this;
        }

        /**
         * Sets the resident memory at the end of the epoch. Defaults to NaN, unknown.
         *
         * @param residentMb MiB
         * @return this builder
         */
        public Builder optResidentMb(double residentMb) {
            this.residentMb = residentMb;
            return this;
        }

        /**
         * Sets the evaluation-mode accuracy over the training images. Defaults to NaN.
         *
         * @param trainEvalAccuracy the accuracy
         * @return this builder
         */
        public Builder optTrainEvalAccuracy(double trainEvalAccuracy) {
            this.trainEvalAccuracy = trainEvalAccuracy;
            return this;
        }

        /**
         * Sets the realised drop rate of the epoch's training forwards. Defaults to NaN.
         *
         * @param realisedDropRate the fraction of units zeroed, 0 without DropBlock
         * @return this builder
         */
        public Builder optRealisedDropRate(double realisedDropRate) {
            this.realisedDropRate = realisedDropRate;
            return this;
        }

        /**
         * Builds the row.
         *
         * @return the row
         * @throws IllegalArgumentException if the epoch or the step is unset or out of range
         */
        public EpochMetrics build() {
            return new EpochMetrics(
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
                    residentMb,
                    trainEvalAccuracy,
                    realisedDropRate);
        }
    }
}
