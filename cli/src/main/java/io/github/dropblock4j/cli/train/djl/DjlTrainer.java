package io.github.dropblock4j.cli.train.djl;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.BatchResult;
import io.github.dropblock4j.cli.train.HeldOut;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.Trainer;
import io.github.dropblock4j.cli.train.TrainingRecipe;
import io.github.dropblock4j.djl.BatchNormRecalibration;
import io.github.dropblock4j.djl.DropBlockScheduler;
import io.github.dropblock4j.djl.ResNetDropBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The {@link Trainer} on Deep Java Library: the {@code djl} module's {@link ResNetDropBlock}, its
 * drop probability on a {@link DropBlockScheduler} (linear to the target at the recipe's ramp end,
 * or constant), the learning rate on DJL's {@link CosineTracker}, and the recipe's optimizer as
 * {@link DjlNesterov}. The model is saved in DJL's format, {@code model-NNNN.params}, which carries
 * the scheduler's step.
 *
 * <p>Each batch goes through DJL's {@link EasyTrain#trainBatch} (split over the trainer's devices)
 * and {@code Trainer.step()}, so every training listener fires as in any DJL loop; the batch's loss
 * and accuracy are read from the training forward's predictions by a listener. The engine is
 * reseeded with the seed before the weights are initialised and with the epoch's seed before its
 * shuffle. The realised drop rate is the scheduler's metric, read from fresh {@code Metrics} per
 * batch. What no resume restores: the optimizer's velocities (DJL saves no optimizer state), which
 * restart from zero. Not thread safe.
 */
public final class DjlTrainer implements Trainer {

    private final TrainConfig config;
    private final ImageTrainingData data;
    private final Model model;
    private final boolean regularized;
    private final DropBlockScheduler scheduler;
    private final Tracker cosine;
    private final TrainingRecipe recipe;
    private final BatchMetrics batchMetrics = new BatchMetrics();
    private final Map<HeldOut, ArrayDataset> heldOut = new EnumMap<>(HeldOut.class);
    private ai.djl.training.Trainer trainer;
    private NDManager dataManager;
    private NDManager epochManager;
    private Iterator<Batch> train;
    private int trained;
    private Iterator<Batch> evaluating;
    private int evaluated;
    // The optimizer counts its updates from 0 in every process; the schedule continues from here.
    private int stepOffset;
    // The epoch's realised drop rates of its batches, each weighted by the batch's images.
    private double droppedSum;
    private long dropSamples;

    /**
     * Prepares a trainer.
     *
     * @param config the run's settings
     * @param recipe the run's optimizer and schedules
     * @param data the images
     */
    public DjlTrainer(TrainConfig config, TrainingRecipe recipe, ImageTrainingData data) {
        this.config = config;
        this.recipe = recipe;
        this.data = data;
        int[] image = data.imageShape();
        this.model = Model.newInstance("dropblock4j");
        model.setBlock(network(config, new Shape(image[0], image[1], image[2]), data.classes()));
        // Without DropBlocks (--regularizer none) the schedule drives nothing: report 0.
        this.regularized = !DropBlockScheduler.dropBlocksIn(model.getBlock()).isEmpty();
        this.scheduler =
                recipe.dropSchedule() == TrainConfig.Schedule.LINEAR
                        ? DropBlockScheduler.linear(recipe.dropProb(), recipe.rampEndStep())
                        : DropBlockScheduler.of(Tracker.fixed(recipe.dropProb()));
        this.cosine =
                CosineTracker.builder()
                        .setBaseValue(recipe.learningRate())
                        .optFinalValue(0f)
                        .setMaxUpdates(recipe.totalSteps())
                        .build();
    }

    /**
     * Builds the network a config describes: the ResNet with the configured regularizer in the
     * configured places, its drop probability 0 until a scheduler sets it, or the target for a
     * constant schedule.
     *
     * @param config the settings
     * @param imageShape (channels, height, width)
     * @param classes the number of classes
     * @return the network
     */
    public static Block network(TrainConfig config, Shape imageShape, int classes) {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(config.depth())
                        .setOutSize(classes)
                        .setImageShape(imageShape)
                        .optBlockSizePerStage(config.blockSizesApplied())
                        .optBlockFractionPerStage(config.blockFractionsApplied())
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

    /** {@inheritDoc} */
    @Override
    public void start(Optional<Path> checkpoint) {
        checkpoint.ifPresent(this::load);
        Tracker learningRate = update -> cosine.getNewValue(update + stepOffset);
        DefaultTrainingConfig trainingConfig =
                new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(
                                DjlNesterov.builder()
                                        .setLearningRateTracker(learningRate)
                                        .setMomentum(recipe.momentum())
                                        .optWeightDecays(recipe.weightDecay())
                                        .build())
                        .addTrainingListeners(scheduler, batchMetrics);
        trainer = model.newTrainer(trainingConfig);
        // The scheduler read the restored step from the model when the trainer began.
        stepOffset = scheduler.getStep();
        // The seed fixes the initial weights: arms that differ only in their regularizer (which
        // has no parameters) start from the same weights.
        Engine.getInstance().setRandomSeed(config.seed());
        int[] image = data.imageShape();
        trainer.initialize(new Shape(config.batchSize(), image[0], image[1], image[2]));
        dataManager = trainer.getManager().newSubManager();
        if (data.validationSize() > 0) {
            heldOut.put(HeldOut.VALIDATION, dataset(data.validationImages(), dataManager, false));
        }
        heldOut.put(HeldOut.TEST, dataset(data.testImages(), dataManager, false));
    }

    private ArrayDataset dataset(LabeledImages images, NDManager manager, boolean shuffle) {
        return DjlImages.toArrayDataset(
                images, manager, data.mean(), data.std(), config.batchSize(), shuffle);
    }

    private void load(Path checkpoint) {
        Optional<Path> file;
        try (Stream<Path> files = Files.list(checkpoint)) {
            file =
                    files.filter(
                                    p ->
                                            p.getFileName()
                                                            .toString()
                                                            .startsWith(RunDirectory.MODEL + "-")
                                                    && p.getFileName()
                                                            .toString()
                                                            .endsWith(".params"))
                            .findFirst();
        } catch (IOException e) {
            throw new BadInputException(
                    "--resume: cannot list checkpoint " + checkpoint + ": " + e, e);
        }
        if (file.isEmpty()) {
            throw new BadInputException(
                    "--resume: checkpoint "
                            + checkpoint
                            + " has no "
                            + RunDirectory.MODEL
                            + "-*.params file");
        }
        try {
            model.load(checkpoint, RunDirectory.MODEL);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            // A truncated or corrupt file fails in the engine's reader with any of these.
            throw new BadInputException(
                    "--resume: cannot load the checkpoint's parameters " + file.get() + ": " + e,
                    e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        Engine engine = Engine.getInstance();
        return "DJL " + engine.getEngineName() + " " + engine.getVersion();
    }

    /** {@inheritDoc} */
    @Override
    public int trainBatches() {
        return (int) ((data.trainSize() + config.batchSize() - 1) / config.batchSize());
    }

    /** {@inheritDoc} */
    @Override
    public void startEpoch(int epoch) {
        // The engine takes an int seed: the low 32 bits, as int arithmetic always gave.
        Engine.getInstance().setRandomSeed((int) config.epochSeed(epoch));
        epochManager = dataManager.newSubManager();
        train = iterate(dataset(data.trainImages(epoch), epochManager, true));
        trained = 0;
        droppedSum = 0;
        dropSamples = 0;
    }

    /** {@inheritDoc} */
    @Override
    public BatchResult trainBatch(int index) {
        for (; trained < index; trained++) {
            // Done before a stop: the same data order, nothing to train.
            train.next().close();
        }
        // Fresh metrics per batch: the scheduler adds the batch's realised drop rate to them.
        Metrics metrics = new Metrics();
        trainer.setMetrics(metrics);
        try (Batch batch = train.next()) {
            EasyTrain.trainBatch(trainer, batch);
            trainer.step();
        }
        trained++;
        BatchResult result = batchMetrics.last;
        if (metrics.hasMetric(DropBlockScheduler.REALISED_DROP_RATE_METRIC)) {
            // Every image passes the same DropBlocks: weighting by images gives the epoch's rate.
            droppedSum +=
                    metrics.latestMetric(DropBlockScheduler.REALISED_DROP_RATE_METRIC)
                                    .getValue()
                                    .doubleValue()
                            * result.samples();
            dropSamples += result.samples();
        }
        return result;
    }

    /** {@inheritDoc} */
    @Override
    public double realisedDropRate() {
        if (!regularized) {
            return 0;
        }
        return dropSamples > 0 ? droppedSum / dropSamples : Double.NaN;
    }

    /** {@inheritDoc} */
    @Override
    public void recalibrateBatchNorm() {
        try (NDManager manager = dataManager.newSubManager()) {
            ArrayDataset batches = dataset(data.trainImages(config.epochs()), manager, false);
            BatchNormRecalibration.recalibrate(model.getBlock(), () -> iterate(batches));
        }
    }

    /** {@inheritDoc} */
    @Override
    public int heldOutBatches(HeldOut set) {
        long size = set == HeldOut.VALIDATION ? data.validationSize() : data.testSize();
        return (int) ((size + config.batchSize() - 1) / config.batchSize());
    }

    /** {@inheritDoc} */
    @Override
    public BatchResult evaluateBatch(HeldOut set, int index) {
        if (index == 0) {
            ArrayDataset dataset = heldOut.get(set);
            if (dataset == null) {
                throw new IllegalStateException("no " + set + " set: --val-split is 0");
            }
            evaluating = iterate(dataset);
            evaluated = 0;
        }
        for (; evaluated < index; evaluated++) {
            evaluating.next().close();
        }
        try (Batch batch = evaluating.next()) {
            evaluated++;
            NDList predictions = trainer.evaluate(batch.getData());
            return measure(trainer.getLoss(), batch.getLabels(), predictions);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void endEpoch() {
        trainer.notifyListeners(listener -> listener.onEpoch(trainer));
        train = null;
        epochManager.close();
    }

    /** {@inheritDoc} */
    @Override
    public void save(Path folder) throws IOException {
        model.save(folder, RunDirectory.MODEL);
    }

    /** {@inheritDoc} */
    @Override
    public int stepsDone() {
        return scheduler.getStep();
    }

    /** {@inheritDoc} */
    @Override
    public double dropProb() {
        return regularized ? scheduler.dropProbAt(Math.max(0, scheduler.getStep() - 1)) : 0;
    }

    /** {@inheritDoc} */
    @Override
    public double learningRate() {
        return cosine.getNewValue(Math.max(0, scheduler.getStep() - 1));
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        if (trainer != null) {
            trainer.close();
        }
        model.close();
    }

    private Iterator<Batch> iterate(ArrayDataset dataset) {
        try {
            return trainer.iterateDataset(dataset).iterator();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TranslateException e) {
            throw new IllegalStateException("cannot iterate the data set: " + e.getMessage(), e);
        }
    }

    /** The summed cross-entropy and the right answers of one batch's predictions. */
    private static BatchResult measure(Loss loss, NDList labels, NDList predictions) {
        NDArray label = labels.singletonOrThrow();
        long n = label.getShape().get(0);
        try (NDArray mean = loss.evaluate(labels, predictions);
                NDArray predicted = predictions.singletonOrThrow().argMax(1);
                NDArray actual = label.toType(DataType.INT64, true);
                NDArray right = predicted.eq(actual);
                NDArray count = right.countNonzero()) {
            return new BatchResult(n, mean.getFloat() * (double) n, count.getLong());
        }
    }

    /**
     * Reads the loss and accuracy of each training batch from the predictions of its training
     * forward, on every device the batch was split over.
     */
    private static final class BatchMetrics extends TrainingListenerAdapter {
        private BatchResult last = BatchResult.NONE;

        /** {@inheritDoc} */
        @Override
        public void onTrainingBatch(ai.djl.training.Trainer trainer, BatchData batchData) {
            BatchResult all = BatchResult.NONE;
            for (Device device : batchData.getLabels().keySet()) {
                all =
                        all.plus(
                                measure(
                                        trainer.getLoss(),
                                        batchData.getLabels().get(device),
                                        batchData.getPredictions().get(device)));
            }
            last = all;
        }
    }
}
