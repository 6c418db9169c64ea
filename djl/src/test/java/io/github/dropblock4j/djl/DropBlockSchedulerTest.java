package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metric;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Batchifier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DropBlockSchedulerTest {

    private static final Shape BATCH = new Shape(16, 1, 16, 16);
    // Linear ramp to 0.2 over 10 steps: 0.02 per step.
    private static final float TARGET = 0.2f;
    private static final int RAMP = 10;
    // Tracker values are float32 products; compare to a few ulps.
    private static final float EPS = 1e-6f;

    @Test
    void linearRampsFromZeroToTargetAndHolds() {
        DropBlockScheduler scheduler = DropBlockScheduler.linear(TARGET, RAMP);
        assertEquals(0f, scheduler.dropProbAt(0));
        assertEquals(0.1f, scheduler.dropProbAt(5), EPS);
        assertEquals(TARGET, scheduler.dropProbAt(RAMP), EPS);
        assertEquals(TARGET, scheduler.dropProbAt(10 * RAMP), EPS);
        assertTrue(scheduler.dropProbAt(RAMP) <= TARGET);
    }

    @Test
    void badArgumentsAreRejected() {
        assertEquals(
                "totalSteps must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlockScheduler.linear(0.1f, 0))
                        .getMessage());
        assertEquals(
                "dropProb must be in [0, 1), got 1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> DropBlockScheduler.linear(1f, 10))
                        .getMessage());
    }

    @Test
    void dropProbFollowsTheTrackerOnTrainingBatchesOnly() {
        Engine.getInstance().setRandomSeed(3);
        DropBlockScheduler scheduler = DropBlockScheduler.linear(TARGET, RAMP);
        try (Model model = newModel();
                Trainer trainer = newTrainer(model, scheduler)) {
            List<DropBlock> dropBlocks = DropBlockScheduler.dropBlocksIn(model.getBlock());
            assertEquals(18, dropBlocks.size());
            for (int step = 0; step < 15; step++) {
                float expected = Math.min(step, RAMP) * (TARGET / RAMP);
                assertEquals(step, scheduler.getStep());
                for (DropBlock d : dropBlocks) {
                    assertEquals(expected, d.getDropProb(), EPS, "step " + step);
                }
                trainStep(trainer);
                try (Batch batch = batch(trainer.getManager(), 99)) {
                    EasyTrain.validateBatch(trainer, batch);
                }
                assertEquals(step + 1, scheduler.getStep(), "validation must not advance the step");
            }
        }
    }

    @Test
    void eachTrainingBatchRecordsItsDropProbInTheTrainersMetrics() {
        Engine.getInstance().setRandomSeed(6);
        try (Model model = newModel();
                Trainer trainer = newTrainer(model, DropBlockScheduler.linear(TARGET, RAMP))) {
            // Without metrics the scheduler records nothing and does not fail.
            trainStep(trainer);
            trainer.setMetrics(new Metrics());
            for (int step = 1; step < 4; step++) {
                trainStep(trainer);
                try (Batch batch = batch(trainer.getManager(), 99)) {
                    EasyTrain.validateBatch(trainer, batch);
                }
            }
            // Steps 1 to 3 trained with 0.02, 0.04 and 0.06; validation records nothing.
            List<Metric> recorded =
                    trainer.getMetrics().getMetric(DropBlockScheduler.DROP_PROB_METRIC);
            assertEquals(3, recorded.size());
            for (int i = 0; i < 3; i++) {
                assertEquals((i + 1) * (TARGET / RAMP), recorded.get(i).getValue(), EPS);
            }
        }
    }

    @Test
    void eachTrainingBatchRecordsItsRealisedDropRate() {
        Engine.getInstance().setRandomSeed(8);
        try (Model model = newModel();
                Trainer trainer = newTrainer(model, DropBlockScheduler.linear(TARGET, 2))) {
            trainer.setMetrics(new Metrics());
            for (int step = 0; step < 4; step++) {
                trainStep(trainer);
                try (Batch batch = batch(trainer.getManager(), 99)) {
                    EasyTrain.validateBatch(trainer, batch);
                }
            }
            List<Metric> realised =
                    trainer.getMetrics().getMetric(DropBlockScheduler.REALISED_DROP_RATE_METRIC);
            assertEquals(4, realised.size());
            // Step 0 trains with a drop probability of 0: units seen, none dropped.
            assertEquals(0.0, realised.get(0).getValue());
            // Steps 2 and 3 request 0.2: 18 DropBlocks on 16 samples draw about 14 000 masks
            // whose dropped fraction has a standard deviation below 0.5, a standard error below
            // 0.005, so 0.05 is ten of them.
            assertEquals(TARGET, realised.get(2).getValue(), 0.05);
            assertEquals(TARGET, realised.get(3).getValue(), 0.05);
            for (DropBlock dropBlock : DropBlockScheduler.dropBlocksIn(model.getBlock())) {
                assertTrue(dropBlock.isDropCounting());
                assertEquals(0, dropBlock.takeDropCount().units(), "taken by the scheduler");
            }
        }
    }

    @Test
    void engineMasksAreCountedFromTheFirstBatchWhenMetricsAreSetAfterTheTrainer() {
        Engine.getInstance().setRandomSeed(9);
        SequentialBlock net =
                new SequentialBlock()
                        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).setFilters(4).build())
                        .add(
                                DropBlock.builder()
                                        .optBlockSize(3)
                                        .optDropProb(0f)
                                        .optEngineMask(true)
                                        .build())
                        .add(Blocks.batchFlattenBlock())
                        .add(Linear.builder().setUnits(4).build());
        try (Model model = Model.newInstance("engine-masks")) {
            model.setBlock(net);
            try (Trainer trainer =
                    newTrainer(model, DropBlockScheduler.of(Tracker.fixed(TARGET)))) {
                // As DJL's examples do: the metrics come after newTrainer, which began training.
                trainer.setMetrics(new Metrics());
                trainStep(trainer);
                List<Metric> realised =
                        trainer.getMetrics()
                                .getMetric(DropBlockScheduler.REALISED_DROP_RATE_METRIC);
                assertEquals(1, realised.size());
                assertTrue(realised.get(0).getValue().doubleValue() > 0, realised.toString());
            }
        }
    }

    @Test
    void trainingWithDefaultsIsStableAndLossDecreases() {
        // ResNet-20 with the defaults (DropBlock 0.1, block 7, stages 2-3, both branches), SGD
        // with momentum and weight decay, on one memorised batch.
        Engine.getInstance().setRandomSeed(4);
        DropBlockScheduler scheduler = DropBlockScheduler.of(Tracker.fixed(0.1f));
        try (Model model = newModel();
                Trainer trainer = newTrainer(model, scheduler)) {
            float first = evalLoss(trainer);
            for (int step = 0; step < 40; step++) {
                trainStep(trainer);
            }
            float last = evalLoss(trainer);
            assertFalse(Float.isNaN(last) || Float.isInfinite(last), "loss " + last);
            assertTrue(last < 0.5f * first, "loss went from " + first + " to " + last);
        }
    }

    @Test
    void resumedTrainingContinuesTheSchedule(@TempDir Path dir)
            throws IOException, MalformedModelException {
        Engine.getInstance().setRandomSeed(5);
        float atSeven;
        try (Model model = newModel();
                Trainer trainer = newTrainer(model, DropBlockScheduler.linear(TARGET, RAMP))) {
            for (int step = 0; step < 4; step++) {
                trainStep(trainer);
            }
            model.save(dir, "resume");
            for (int step = 4; step < 7; step++) {
                trainStep(trainer);
            }
            atSeven = DropBlockScheduler.dropBlocksIn(model.getBlock()).get(0).getDropProb();
        }
        DropBlockScheduler resumed = DropBlockScheduler.linear(TARGET, RAMP);
        try (Model model = newModel()) {
            model.load(dir, "resume");
            try (Trainer trainer = newTrainer(model, resumed)) {
                assertEquals(4, resumed.getStep());
                DropBlock first = DropBlockScheduler.dropBlocksIn(model.getBlock()).get(0);
                assertEquals(4 * (TARGET / RAMP), first.getDropProb(), EPS);
                for (int step = 4; step < 7; step++) {
                    trainStep(trainer);
                }
                assertEquals(7, resumed.getStep());
                assertEquals(atSeven, first.getDropProb(), EPS);
            }
        }
    }

    private static Model newModel() {
        Model model = Model.newInstance("resnet20");
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(4)
                        .setImageShape(new Shape(1, 16, 16))
                        .build();
        model.setBlock(net);
        return model;
    }

    private static Trainer newTrainer(Model model, DropBlockScheduler scheduler) {
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(
                                Optimizer.sgd()
                                        .setLearningRateTracker(Tracker.fixed(0.05f))
                                        .optMomentum(0.9f)
                                        .optWeightDecays(5e-4f)
                                        .build())
                        .addTrainingListeners(scheduler);
        Trainer trainer = model.newTrainer(config);
        trainer.initialize(BATCH);
        return trainer;
    }

    private static void trainStep(Trainer trainer) {
        try (Batch batch = batch(trainer.getManager(), 7)) {
            EasyTrain.trainBatch(trainer, batch);
            trainer.step();
        }
    }

    private static float evalLoss(Trainer trainer) {
        try (Batch batch = batch(trainer.getManager(), 7)) {
            NDList preds = trainer.evaluate(batch.getData());
            return trainer.getLoss().evaluate(batch.getLabels(), preds).getFloat();
        }
    }

    /** A fixed batch: class c has a bright square at a class-dependent place, plus noise. */
    private static Batch batch(NDManager parent, int seed) {
        NDManager manager = parent.newSubManager();
        float[] pixels = new float[(int) BATCH.size()];
        float[] labels = new float[16];
        java.util.Random random = new java.util.Random(seed);
        for (int n = 0; n < 16; n++) {
            int c = n % 4;
            labels[n] = c;
            for (int i = 0; i < 256; i++) {
                int r = i / 16;
                int col = i % 16;
                boolean bright = r / 8 == c / 2 && col / 8 == c % 2;
                pixels[n * 256 + i] = (bright ? 1f : 0f) + 0.3f * (float) random.nextGaussian();
            }
        }
        NDArray x = manager.create(pixels, BATCH);
        NDArray y = manager.create(labels, new Shape(16));
        return new Batch(
                manager,
                new NDList(x),
                new NDList(y),
                16,
                Batchifier.STACK,
                Batchifier.STACK,
                0,
                1);
    }
}
