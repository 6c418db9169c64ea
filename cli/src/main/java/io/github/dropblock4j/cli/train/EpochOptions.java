package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.run.TrainConfig;
import picocli.CommandLine.Option;

/**
 * The options of {@code train} and {@code ablate} for what happens around each epoch's training:
 * the augmentation of its training images, a validation split measured after it, how often the test
 * set is, and whether the batch norms are recalibrated after the last epoch. A picocli mixin beside
 * {@link TrainingOptions}; {@code spark-train} has none of them.
 */
public final class EpochOptions {

    @Option(
            names = "--val-split",
            paramLabel = "N",
            description =
                    "Hold out N training images (stratified, never trained on) as a validation set,"
                            + " to choose settings without the test set (default: none).")
    private int valSplit;

    @Option(
            names = "--augment",
            description =
                    "Augment the training images with a random crop (4 pixels of zero"
                            + " padding) and a horizontal flip, drawn afresh each epoch.")
    private boolean augment;

    @Option(
            names = "--test-every",
            paramLabel = "K",
            description = "Test every K epochs and after the last one (default: ${DEFAULT-VALUE}).")
    private int testEvery = 1;

    @Option(
            names = "--recalibrate-bn",
            description =
                    "After training, re-estimate every batch norm's statistics over the training"
                            + " batches with the regularizer off, and report the validation and"
                            + " test figures before and after (summary.json).")
    private boolean recalibrateBn;

    /**
     * Sets the parsed options on a builder; {@link TrainConfig.Builder#build()} checks them.
     *
     * @param builder the builder
     * @return the builder
     */
    public TrainConfig.Builder applyTo(TrainConfig.Builder builder) {
        return builder.optValSplit(valSplit)
                .optAugment(augment)
                .optTestEvery(testEvery)
                .optRecalibrateBn(recalibrateBn);
    }
}
