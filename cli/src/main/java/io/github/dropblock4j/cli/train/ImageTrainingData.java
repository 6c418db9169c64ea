package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.Random;

/**
 * The images a training run learns from, is validated on and is tested on, with the per-channel
 * mean and standard deviation of the training images that every framework standardises all of them
 * with. The validation set is held out of the training images, so settings can be chosen on it
 * without looking at the test set. Knows no framework: each trainer cuts the images into its own
 * batches. Immutable.
 *
 * <p>The validation set is split off the training images first (stratified), and the training
 * subset is then drawn from the rest, so the two never share an image. Augmentation (random crop
 * with 4 pixels of zero padding, horizontal flip) touches the training images only and is drawn
 * from a stream seeded by the run's seed and the epoch.
 */
public final class ImageTrainingData {

    /** The largest shift of the random crop, in pixels: the CIFAR standard. */
    static final int CROP_PADDING = 4;

    private final LabeledImages train;
    private final LabeledImages validation;
    private final LabeledImages test;
    private final boolean augment;
    private final long seed;
    private final float[] mean;
    private final float[] std;

    /**
     * Splits and cuts the images as a config asks.
     *
     * @param train the training images
     * @param test the test images
     * @param config the run's settings: {@code trainLimit}, {@code testLimit}, {@code valSplit},
     *     {@code augment} and {@code seed}
     * @throws BadInputException if the two sets differ in shape or classes, or the training set is
     *     too small for the validation split
     */
    public ImageTrainingData(LabeledImages train, LabeledImages test, TrainConfig config) {
        if (train.channels() != test.channels()
                || train.height() != test.height()
                || train.width() != test.width()
                || train.numClasses() != test.numClasses()) {
            throw new BadInputException(
                    "training images "
                            + train
                            + " and test images "
                            + test
                            + " differ in shape or classes");
        }
        LabeledImages pool = train;
        if (config.valSplit() > 0) {
            int perClass = config.valSplit() / train.numClasses();
            if (perClass < 1) {
                throw new BadInputException(
                        "--val-split must be at least the number of classes ("
                                + train.numClasses()
                                + "), got "
                                + config.valSplit());
            }
            try {
                LabeledImages.Split split = train.stratifiedSplit(perClass, config.seed() + 2);
                this.validation = split.chosen();
                pool = split.rest();
            } catch (IllegalArgumentException e) {
                throw new BadInputException(
                        "--val-split "
                                + config.valSplit()
                                + " does not fit "
                                + train
                                + ": "
                                + e.getMessage(),
                        e);
            }
        } else {
            this.validation = null;
        }
        this.train = limit(pool, config.trainLimit(), config.seed());
        this.test = limit(test, config.testLimit(), config.seed() + 1);
        this.augment = config.augment();
        this.seed = config.seed();
        this.mean = this.train.channelMeans();
        this.std = this.train.channelStds();
    }

    /**
     * Reads the images a config names ({@code data}) and splits and cuts them as it asks.
     *
     * @param config the run's settings
     * @return the data
     * @throws BadInputException if the data cannot be read or does not fit the config
     */
    public static ImageTrainingData read(TrainConfig config) {
        DataSource source = DataSource.resolve(config.data());
        return new ImageTrainingData(source.train(), source.test(), config);
    }

    private static LabeledImages limit(LabeledImages images, int limit, long seed) {
        if (limit <= 0 || limit >= images.size()) {
            return images;
        }
        int perClass = Math.max(1, limit / images.numClasses());
        return images.stratifiedSubset(perClass, seed);
    }

    /**
     * Returns the number of training images.
     *
     * @return the training set's size
     */
    public long trainSize() {
        return train.size();
    }

    /**
     * Returns the number of validation images.
     *
     * @return the validation set's size, 0 when there is no validation set
     */
    public long validationSize() {
        return validation == null ? 0 : validation.size();
    }

    /**
     * Returns the number of test images.
     *
     * @return the test set's size
     */
    public long testSize() {
        return test.size();
    }

    /**
     * Returns one image's shape.
     *
     * @return {channels, height, width}
     */
    public int[] imageShape() {
        return new int[] {train.channels(), train.height(), train.width()};
    }

    /**
     * Returns the number of classes.
     *
     * @return the number of classes
     */
    public int classes() {
        return train.numClasses();
    }

    /**
     * Returns one epoch's training images, augmented afresh for the epoch when augmentation is on.
     *
     * @param epoch the epoch, 1-based: with the seed it fixes the augmentation
     * @return the images, not standardised
     */
    public LabeledImages trainImages(int epoch) {
        return augment
                ? train.augmented(CROP_PADDING, new Random(seed * 1_000_003L + epoch))
                : train;
    }

    /**
     * Returns the validation images, not standardised.
     *
     * @return the images
     * @throws IllegalStateException if there is no validation set
     */
    public LabeledImages validationImages() {
        if (validation == null) {
            throw new IllegalStateException("no validation set: --val-split is 0");
        }
        return validation;
    }

    /**
     * Returns the test images, not standardised.
     *
     * @return the images
     */
    public LabeledImages testImages() {
        return test;
    }

    /**
     * Returns the per-channel mean that standardises every set, the training images'.
     *
     * @return a new array, one mean per channel
     */
    public float[] mean() {
        return mean.clone();
    }

    /**
     * Returns the per-channel standard deviation that standardises every set.
     *
     * @return a new array, one standard deviation per channel
     */
    public float[] std() {
        return std.clone();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return train
                + (validation == null ? "" : " / validation " + validation)
                + " / "
                + test
                + (augment
                        ? " (augmented: random crop, padding " + CROP_PADDING + ", horizontal flip)"
                        : "");
    }
}
