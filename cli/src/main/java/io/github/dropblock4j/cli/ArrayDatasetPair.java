package io.github.dropblock4j.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.ArrayDataset;

/**
 * A training and a test set whose arrays live in one manager, freed together.
 *
 * @param train the training set, shuffled each epoch
 * @param test the test set, in order
 * @param manager the manager that owns both sets' arrays
 */
record ArrayDatasetPair(ArrayDataset train, ArrayDataset test, NDManager manager) implements AutoCloseable {

    /** Frees both sets' arrays. */
    @Override
    public void close() {
        manager.close();
    }
}
