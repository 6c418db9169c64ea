package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@link Trainer} contract that holds for every framework's trainer. */
class TrainerTest {

    // 100 training images in batches of 50: two steps an epoch.
    private static TrainConfig config(Framework framework, Regularizer regularizer) {
        return TrainConfig.builder()
                .optFramework(framework)
                .optRegularizer(regularizer)
                .optTrainLimit(100)
                .optTestLimit(50)
                .optBatchSize(50)
                .optSchedule(TrainConfig.Schedule.CONSTANT)
                .optDropProb(0.2f)
                .build();
    }

    private static Trainer started(TrainConfig config) {
        ImageTrainingData data =
                new ImageTrainingData(
                        DataSource.embedded().train(), DataSource.embedded().test(), config);
        Trainer trainer = TrainerFactory.create(config, data);
        trainer.start(Optional.empty());
        return trainer;
    }

    @ParameterizedTest
    @EnumSource(Framework.class)
    void anEpochThatTrainedNoBatchHereHasNoRealisedDropRate(Framework framework) {
        try (Trainer trainer = started(config(framework, Regularizer.DROPBLOCK))) {
            trainer.startEpoch(1);
            trainer.trainBatch(0);
            trainer.trainBatch(1);
            trainer.endEpoch();
            double measured = trainer.realisedDropRate();
            // 0.2 requested on every batch: something dropped, far from all.
            assertTrue(measured > 0 && measured < 0.5, String.valueOf(measured));
            // As after a stop behind the epoch's last batch: resumed, nothing left to train.
            trainer.startEpoch(2);
            trainer.endEpoch();
            assertEquals(Double.NaN, trainer.realisedDropRate());
        }
    }

    @ParameterizedTest
    @EnumSource(Framework.class)
    void withoutDropBlockTheRealisedDropRateIsZeroTrainedOrNot(Framework framework) {
        try (Trainer trainer = started(config(framework, Regularizer.NONE))) {
            trainer.startEpoch(1);
            trainer.endEpoch();
            assertEquals(0.0, trainer.realisedDropRate());
            trainer.startEpoch(2);
            trainer.trainBatch(0);
            trainer.endEpoch();
            assertEquals(0.0, trainer.realisedDropRate());
        }
    }
}
