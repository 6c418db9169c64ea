package io.github.dropblock4j.cli.train;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.evaluator.Evaluator;
import ai.djl.training.listener.EvaluatorTrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunDirectory.IoConsumer;
import io.github.dropblock4j.cli.run.RunDirectory.PartialEpoch;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.djl.DropBlockScheduler;
import io.github.dropblock4j.djl.ResNetDropBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Trains one ResNet with the configured regularizer and writes its run directory.
 *
 * <p>SGD with momentum 0.9 and weight decay, the learning rate on a cosine from {@code --lr} to 0
 * over the run, and the drop probability on a {@link DropBlockScheduler} (linear from 0 to the
 * target over the whole run, or constant). Each batch goes through DJL's {@link
 * EasyTrain#trainBatch} (split over the trainer's devices) and {@link Trainer#step()}, so every
 * training listener fires as in any DJL loop; the loss and an {@link Accuracy} are DJL evaluators,
 * so every loss and accuracy reported is DJL's: the mean of the batches' mean losses and the
 * fraction of images classified right.
 *
 * <p>What DJL's loop does not have: the engine is reseeded with the seed before the weights are
 * initialised and with {@link TrainConfig#epochSeed} at the start of every epoch, so the initial
 * weights, shuffling and masks of an epoch do not depend on what came before; a validation and a
 * test pass per epoch; a checkpoint after every epoch; and a stop on request ({@link StopRequest})
 * after the current batch, with a checkpoint inside the epoch. A run resumed from an epoch's end
 * redoes nothing and continues exactly; one resumed from inside an epoch skips the batches done,
 * with the same data order but other masks. What no resume restores: SGD's momentum buffers (DJL
 * does not save optimizer state), which restart from zero.
 */
public final class TrainingRun {

    private static final float MOMENTUM = 0.9f;
    private static final String TEST = "test";

    private final TrainConfig config;
    private final TrainingData data;
    private final RunConsole console;

    /**
     * Prepares a run.
     *
     * @param config the run's settings
     * @param data the images
     * @param console where the run reports; its stop request stops the run after the current batch
     */
    public TrainingRun(TrainConfig config, TrainingData data, RunConsole console) {
        this.config = config;
        this.data = data;
        this.console = console;
    }

    /**
     * Builds the network a config describes.
     *
     * @param config the settings
     * @param imageShape (channels, height, width)
     * @param classes the number of classes
     * @return the ResNet with the configured regularizer in the configured places
     */
    static Block network(TrainConfig config, Shape imageShape, int classes) {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(config.depth())
                        .setOutSize(classes)
                        .setImageShape(imageShape)
                        .optBlockSize(config.regularizer().blockSize(config.blockSize()))
                        .optDropProb(
                                config.schedule() == TrainConfig.Schedule.LINEAR
                                        ? 0f
                                        : config.dropProb())
                        .optDropBlockOnShortcut(config.shortcut());
        if (config.regularizer() == Regularizer.NONE) {
            builder.optDropBlockStages();
        } else if (config.stages() != null) {
            builder.optDropBlockStages(config.stages().stream().mapToInt(s -> s).toArray());
        }
        return builder.build();
    }

    /**
     * Trains, from the last checkpoint of {@code dir} if there is one, and writes the results.
     *
     * @param dir the run directory
     * @return the summary of the finished run
     * @throws IOException if a result or checkpoint cannot be written
     * @throws RunStoppedException if a stop was requested; a checkpoint is written first
     */
    public RunSummary run(RunDirectory dir) throws IOException {
        TrainingHistory history = new TrainingHistory(config, dir, console.out());
        int stepsPerEpoch =
                (int) ((data.trainSize() + config.batchSize() - 1) / config.batchSize());
        int totalSteps = stepsPerEpoch * config.epochs();
        Shape imageShape = data.imageShape();

        try (Model model = Model.newInstance("dropblock4j")) {
            model.setBlock(network(config, imageShape, data.classes()));
            IoConsumer<Path> writeModel = path -> model.save(path, RunDirectory.MODEL);
            // Without DropBlocks (--regularizer none) the schedule drives nothing: report 0.
            boolean regularized = !DropBlockScheduler.dropBlocksIn(model.getBlock()).isEmpty();
            if (history.isResumed()) {
                dir.loadModel(model);
            }
            DropBlockScheduler scheduler =
                    config.schedule() == TrainConfig.Schedule.LINEAR
                            ? DropBlockScheduler.linear(config.dropProb(), totalSteps)
                            : DropBlockScheduler.of(Tracker.fixed(config.dropProb()));
            Tracker cosine =
                    CosineTracker.builder()
                            .setBaseValue(config.lr())
                            .optFinalValue(0f)
                            .setMaxUpdates(totalSteps)
                            .build();
            // A new trainer counts optimizer updates from 0; continue the cosine where it was.
            int offset = history.stepsBefore();
            Tracker learningRate = update -> cosine.getNewValue(update + offset);
            Accuracy accuracy = new Accuracy();
            DefaultTrainingConfig trainingConfig =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.sgd()
                                            .setLearningRateTracker(learningRate)
                                            .optMomentum(MOMENTUM)
                                            .optWeightDecays(config.weightDecay())
                                            .build())
                            .addEvaluator(accuracy)
                            .addTrainingListeners(
                                    new EvaluatorTrainingListener(),
                                    scheduler,
                                    new DivergenceCheck(config.lr(), offset, stepsPerEpoch));
            try (Trainer trainer = model.newTrainer(trainingConfig);
                    NDManager dataManager = trainer.getManager().newSubManager()) {
                // The seed fixes the initial weights: arms that differ only in their regularizer
                // (which has no parameters) start from the same weights.
                Engine.getInstance().setRandomSeed(config.seed());
                trainer.initialize(new Shape(config.batchSize()).addAll(imageShape));
                ArrayDataset validation =
                        data.validationSize() > 0
                                ? data.validation(dataManager, config.batchSize())
                                : null;
                ArrayDataset test = data.test(dataManager, config.batchSize());
                for (int epoch = history.firstEpoch(); epoch <= config.epochs(); epoch++) {
                    history.startEpoch();
                    // The engine takes an int seed: the low 32 bits, as int arithmetic always gave.
                    Engine.getInstance().setRandomSeed((int) config.epochSeed(epoch));
                    PartialEpoch trained;
                    try (NDManager epochManager = dataManager.newSubManager()) {
                        ArrayDataset trainSet = data.train(epochManager, config.batchSize(), epoch);
                        trained =
                                trainEpoch(
                                        trainer,
                                        accuracy,
                                        trainSet,
                                        scheduler,
                                        history.doneOf(epoch),
                                        stepsPerEpoch,
                                        history);
                    }
                    double[] val = null;
                    double[] tested = null;
                    boolean testNow = epoch % config.testEvery() == 0 || epoch == config.epochs();
                    if (trained.batches() == stepsPerEpoch) {
                        val =
                                heldOut(
                                        trainer,
                                        accuracy,
                                        validation,
                                        EvaluatorTrainingListener.VALIDATE_EPOCH);
                        tested =
                                testNow
                                        ? heldOut(trainer, accuracy, test, TEST)
                                        : new double[] {Double.NaN, Double.NaN};
                    }
                    if (val == null || tested == null) {
                        throw history.stopInside(writeModel, trained, scheduler.getStep());
                    }
                    trainer.notifyListeners(listener -> listener.onEpoch(trainer));
                    int stepsDone = scheduler.getStep();
                    history.endEpoch(
                            new EpochMetrics(
                                    epoch,
                                    stepsDone,
                                    trained.trainLoss(),
                                    trained.trainAccuracy(),
                                    tested[0],
                                    tested[1],
                                    val[0],
                                    val[1],
                                    regularized ? scheduler.dropProbAt(stepsDone) : 0,
                                    learningRate.getNewValue(stepsDone - offset),
                                    trained.seconds(),
                                    data.trainSize() / trained.seconds(),
                                    ResidentMemory.megabytes()));
                    history.checkpoint(writeModel, console.stop());
                }
            }
            return history.finish(writeModel, "", data.trainSize());
        }
    }

    /**
     * Trains one epoch's batches after those already done, until they are all done or a stop is
     * requested.
     *
     * @param history the run's history, whose clock the epoch started
     * @return the epoch's training so far, {@code done} included
     */
    private PartialEpoch trainEpoch(
            Trainer trainer,
            Accuracy accuracy,
            ArrayDataset train,
            DropBlockScheduler scheduler,
            PartialEpoch done,
            int batches,
            TrainingHistory history) {
        Loss loss = trainer.getLoss();
        String key = EvaluatorTrainingListener.TRAIN_EPOCH;
        int index = 0;
        long samples = 0;
        for (Batch batch : iterate(trainer, train)) {
            try (batch) {
                if (index++ < done.batches()) {
                    // Done before the stop: the same data order, nothing to train.
                    continue;
                }
                EasyTrain.trainBatch(trainer, batch);
                trainer.step();
                samples += batch.getSize();
                double elapsed = history.epochSeconds();
                console.progress()
                        .update(
                                done.epoch(),
                                config.epochs(),
                                index,
                                batches,
                                loss.getAccumulator(key),
                                samples / elapsed,
                                scheduler.dropProbAt(scheduler.getStep()));
            }
            if (console.stop().isRequested() && index < batches) {
                break;
            }
        }
        console.progress().finish();
        int newBatches = index - done.batches();
        double seconds = done.seconds() + history.epochSeconds();
        if (newBatches == 0) {
            return new PartialEpoch(
                    done.epoch(),
                    index,
                    done.samples(),
                    done.trainLoss(),
                    done.trainAccuracy(),
                    seconds);
        }
        // Weighted as DJL's evaluators weight: the loss by batches, the accuracy by images.
        double lossSum =
                loss.getAccumulator(key) * newBatches
                        + (done.batches() == 0 ? 0 : done.trainLoss() * done.batches());
        double correct =
                accuracy.getAccumulator(key) * samples
                        + (done.samples() == 0 ? 0 : done.trainAccuracy() * done.samples());
        return new PartialEpoch(
                done.epoch(),
                index,
                done.samples() + samples,
                lossSum / index,
                correct / (done.samples() + samples),
                seconds);
    }

    /**
     * Runs a held-out set through the model in evaluation mode with the trainer's evaluators. The
     * validation set goes through {@link EasyTrain#validateBatch}, so validation listeners fire;
     * the test set plays no part in training and fires none.
     *
     * @return {mean loss, accuracy}; NaN for both without a set; null if a stop was requested
     */
    private double[] heldOut(Trainer trainer, Accuracy accuracy, ArrayDataset set, String key) {
        if (set == null) {
            return new double[] {Double.NaN, Double.NaN};
        }
        boolean validation = key.equals(EvaluatorTrainingListener.VALIDATE_EPOCH);
        for (Evaluator evaluator : trainer.getEvaluators()) {
            evaluator.addAccumulator(key);
        }
        for (Batch batch : iterate(trainer, set)) {
            try (batch) {
                if (validation) {
                    EasyTrain.validateBatch(trainer, batch);
                } else {
                    NDList predictions = trainer.evaluate(batch.getData());
                    for (Evaluator evaluator : trainer.getEvaluators()) {
                        evaluator.updateAccumulator(key, batch.getLabels(), predictions);
                    }
                }
            }
            if (console.stop().isRequested()) {
                return null;
            }
        }
        return new double[] {trainer.getLoss().getAccumulator(key), accuracy.getAccumulator(key)};
    }

    private static Iterable<Batch> iterate(Trainer trainer, ArrayDataset dataset) {
        try {
            return trainer.iterateDataset(dataset);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TranslateException e) {
            throw new IllegalStateException("cannot iterate the data set: " + e.getMessage(), e);
        }
    }
}
