package io.github.dropblock4j.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The images a training run learns from and is tested on. */
interface TrainingData {

    /** Returns the number of training images. */
    long trainSize();

    /** Returns one image's shape, (channels, height, width). */
    Shape imageShape();

    /** Returns the number of classes. */
    int classes();

    /**
     * Builds the training set (shuffled each epoch) and the test set as DJL data sets.
     *
     * @param manager owns the arrays; closed by the caller
     * @param batchSize the batch size
     * @return both data sets
     */
    ArrayDatasetPair datasets(NDManager manager, int batchSize);
}
