package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Model;
import ai.djl.TrainingDivergedException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.loss.Loss;
import org.junit.jupiter.api.Test;

class DivergenceCheckTest {

    @Test
    void firstBatchWithANonFiniteLossStopsTrainingNamingEpochStepAndRate() throws Exception {
        Engine.getInstance().setRandomSeed(1);
        try (Model model = Model.newInstance("divergence-check-test");
                NDManager manager = NDManager.newBaseManager()) {
            model.setBlock(Linear.builder().setUnits(2).build());
            // Two finite batches, then one whose inputs (and so loss) are NaN.
            float[] x = new float[12];
            x[8] = Float.NaN;
            ArrayDataset data =
                    new ArrayDataset.Builder()
                            .setData(manager.create(x, new Shape(6, 2)))
                            .optLabels(manager.zeros(new Shape(6)))
                            .setSampling(2, false)
                            .build();
            // Steps 1-9 were done before this trainer (a resumed run), 4 steps an epoch.
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .addTrainingListeners(
                                    new EvaluatorTrainingListener(),
                                    new DivergenceCheck(0.5f, 9, 4));
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(2, 2));
                int trained = 0;
                TrainingDivergedException e = null;
                for (Batch batch : trainer.iterateDataset(data)) {
                    try (batch) {
                        EasyTrain.trainBatch(trainer, batch);
                        trained++;
                    } catch (TrainingDivergedException diverged) {
                        e = diverged;
                        break;
                    }
                }
                assertEquals(2, trained);
                assertNotNull(e, "the NaN batch went through");
                assertEquals(
                        "training diverged: loss NaN at epoch 3, step 12 (--lr 0.5); try a"
                                + " smaller --lr",
                        e.getMessage());
            }
        }
    }

    @Test
    void theDl4jLoopsCheckGivesTheSameMessageAndPassesFiniteLosses() {
        DivergenceCheck.requireFinite(2.3, 1, 1, 0.1f);
        TrainingDivergedException e =
                assertThrows(
                        TrainingDivergedException.class,
                        () -> DivergenceCheck.requireFinite(Double.POSITIVE_INFINITY, 2, 7, 0.4f));
        assertEquals(
                "training diverged: loss Infinity at epoch 2, step 7 (--lr 0.4); try a smaller"
                        + " --lr",
                e.getMessage());
    }
}
