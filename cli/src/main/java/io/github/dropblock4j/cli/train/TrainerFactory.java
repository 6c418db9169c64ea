package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.djl.DjlTrainer;
import io.github.dropblock4j.cli.train.dl4j.Dl4jTrainer;

/**
 * Makes the {@link Trainer} of a run's framework: the only class that names both frameworks'
 * trainers, so the rest of the application depends on neither.
 */
final class TrainerFactory {

    private TrainerFactory() {}

    /**
     * Makes the trainer of a run, with the run's {@link TrainingRecipe}: one step per batch, the
     * last batch of an epoch possibly smaller.
     *
     * @param config the run's settings
     * @param data the images
     * @return the trainer, not started
     */
    static Trainer create(TrainConfig config, ImageTrainingData data) {
        int stepsPerEpoch =
                (int) ((data.trainSize() + config.batchSize() - 1) / config.batchSize());
        TrainingRecipe recipe = TrainingRecipe.of(config, stepsPerEpoch);
        return switch (config.framework()) {
            case DJL -> new DjlTrainer(config, recipe, data);
            case DL4J -> new Dl4jTrainer(config, recipe, data);
        };
    }
}
