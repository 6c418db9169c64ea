package io.github.dropblock4j.cli.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;

/**
 * The images a training run learns from, is validated on and is tested on. The validation set is
 * held out of the training images, so settings can be chosen on it without looking at the test set.
 */
public interface TrainingData {

    /**
     * Returns the number of training images.
     *
     * @return the training set's size
     */
    long trainSize();

    /**
     * Returns the number of validation images.
     *
     * @return the validation set's size, 0 when there is no validation set
     */
    long validationSize();

    /**
     * Returns one image's shape.
     *
     * @return (channels, height, width)
     */
    Shape imageShape();

    /**
     * Returns the number of classes.
     *
     * @return the number of classes
     */
    int classes();

    /**
     * Builds one epoch's training set, shuffled by the engine's random seed and, when augmentation
     * is on, augmented afresh for this epoch.
     *
     * @param manager owns the arrays; closed by the caller
     * @param batchSize the batch size
     * @param epoch the epoch, 1-based: with the seed it fixes the augmentation
     * @return the training set
     */
    ArrayDataset train(NDManager manager, int batchSize, int epoch);

    /**
     * Builds the validation set, in order.
     *
     * @param manager owns the arrays; closed by the caller
     * @param batchSize the batch size
     * @return the validation set
     * @throws IllegalStateException if there is no validation set
     */
    ArrayDataset validation(NDManager manager, int batchSize);

    /**
     * Builds the test set, in order.
     *
     * @param manager owns the arrays; closed by the caller
     * @param batchSize the batch size
     * @return the test set
     */
    ArrayDataset test(NDManager manager, int batchSize);
}
