package io.github.dropblock4j.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.cli.data.LabeledImages;

/**
 * {@link TrainingData} over a training and a test {@link LabeledImages}, both standardised with
 * the training set's per-channel mean and standard deviation.
 */
final class ImageTrainingData implements TrainingData {

    private final LabeledImages train;
    private final LabeledImages test;

    /**
     * Wraps two image sets, cut to the limits given.
     *
     * @param train the training images
     * @param test the test images
     * @param trainLimit at most this many training images (a stratified subset); 0 for all
     * @param testLimit at most this many test images (a stratified subset); 0 for all
     * @param seed chooses the subsets
     */
    ImageTrainingData(LabeledImages train, LabeledImages test, int trainLimit, int testLimit, long seed) {
        if (train.channels() != test.channels() || train.height() != test.height()
                || train.width() != test.width() || train.numClasses() != test.numClasses()) {
            throw new BadInputException("training images " + train + " and test images " + test
                    + " differ in shape or classes");
        }
        this.train = limit(train, trainLimit, seed);
        this.test = limit(test, testLimit, seed + 1);
    }

    private static LabeledImages limit(LabeledImages images, int limit, long seed) {
        if (limit <= 0 || limit >= images.size()) {
            return images;
        }
        int perClass = Math.max(1, limit / images.numClasses());
        return images.stratifiedSubset(perClass, seed);
    }

    @Override
    public long trainSize() {
        return train.size();
    }

    @Override
    public Shape imageShape() {
        return new Shape(train.channels(), train.height(), train.width());
    }

    @Override
    public int classes() {
        return train.numClasses();
    }

    @Override
    public ArrayDatasetPair datasets(NDManager parent, int batchSize) {
        NDManager manager = parent.newSubManager();
        float[] mean = train.channelMeans();
        float[] std = train.channelStds();
        return new ArrayDatasetPair(
                train.toArrayDataset(manager, mean, std, batchSize, true),
                test.toArrayDataset(manager, mean, std, batchSize, false),
                manager);
    }

    @Override
    public String toString() {
        return train + " / " + test;
    }
}
