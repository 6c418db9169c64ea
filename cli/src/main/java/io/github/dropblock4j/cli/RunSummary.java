package io.github.dropblock4j.cli;

import java.util.List;

/**
 * The outcome of a finished training run; written as {@code summary.json}.
 *
 * @param config the run's settings
 * @param epochs the per-epoch metrics
 * @param finalTestAccuracy the test accuracy after the last epoch
 * @param bestTestAccuracy the best test accuracy of any epoch
 * @param wallSeconds training and testing time over all epochs, resumed parts included
 * @param samplesPerSecond training images per second over the whole run
 * @param steps the global training steps done
 */
public record RunSummary(
        TrainConfig config,
        List<EpochMetrics> epochs,
        double finalTestAccuracy,
        double bestTestAccuracy,
        double wallSeconds,
        double samplesPerSecond,
        int steps) {}
