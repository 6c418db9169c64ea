package io.github.dropblock4j.cli.train.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import org.junit.jupiter.api.Test;

class DjlNesterovTest {

    // Three float32 steps on values near 1: a few ulps.
    private static final float TOLERANCE = 1e-6f;

    @Test
    void stepsAreDl4jsNesterovUpdateWithWeightDecayOnTheScheduledRate() {
        float momentum = 0.9f;
        float weightDecay = 0.1f;
        // The rate at update k (from 0) is 0.5 / (k + 1): the tracker sees indices from 0.
        DjlNesterov optimizer =
                DjlNesterov.builder()
                        .setLearningRateTracker((Tracker) k -> 0.5f / (k + 1))
                        .setMomentum(momentum)
                        .optWeightDecays(weightDecay)
                        .build();
        float[] g = {1f, -2f};
        double[] w = {1, 1};
        double[] v = {0, 0};
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.create(new float[] {1f, 1f});
            weight.setRequiresGradient(true);
            for (int k = 0; k < 3; k++) {
                NDArray grad = manager.create(g);
                optimizer.update("w", weight, grad);
                double lr = 0.5 / (k + 1);
                for (int i = 0; i < 2; i++) {
                    double previous = v[i];
                    v[i] = momentum * v[i] - lr * g[i];
                    w[i] += -momentum * previous + (1 + momentum) * v[i] - lr * weightDecay * w[i];
                }
                float[] expected = {(float) w[0], (float) w[1]};
                assertArrayEquals(expected, weight.toFloatArray(), TOLERANCE, "update " + k);
            }
        }
    }

    @Test
    void aTrainerStepLeavesNoGradientBehind() {
        Engine.getInstance().setRandomSeed(1);
        try (Model model = Model.newInstance("nesterov-test")) {
            model.setBlock(Linear.builder().setUnits(2).build());
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.l2Loss())
                            .optOptimizer(
                                    DjlNesterov.builder()
                                            .setLearningRateTracker(Tracker.fixed(0.1f))
                                            .setMomentum(0.9f)
                                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(4, 3));
                NDManager manager = trainer.getManager();
                for (int step = 0; step < 2; step++) {
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        NDArray x = manager.ones(new Shape(4, 3));
                        NDArray y = trainer.forward(new NDList(x)).singletonOrThrow();
                        collector.backward(y.sum());
                    }
                    trainer.step();
                    for (Parameter p : model.getBlock().getParameters().values()) {
                        assertArrayEquals(
                                new float[(int) p.getArray().size()],
                                p.getArray().getGradient().toFloatArray(),
                                "gradient of " + p.getName() + " after step " + step);
                    }
                }
            }
        }
    }

    @Test
    void theMomentumMustBeBelowOne() {
        assertEquals(
                "momentum must be in [0, 1), got 1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DjlNesterov.builder()
                                                .setLearningRateTracker(Tracker.fixed(0.1f))
                                                .setMomentum(1f)
                                                .build())
                        .getMessage());
    }
}
