package io.github.dropblock4j.cli.train.dl4j;

import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.BatchResult;
import io.github.dropblock4j.cli.train.HeldOut;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.Trainer;
import io.github.dropblock4j.cli.train.TrainingRecipe;
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.dl4j.BatchNormRecalibration;
import io.github.dropblock4j.dl4j.CosineSchedule;
import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.KeepProbSchedule;
import io.github.dropblock4j.dl4j.Nd4jThreads;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.dl4j.ResNetDropBlock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.IntStream;
import org.deeplearning4j.datasets.iterator.IteratorDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The {@link Trainer} on Deeplearning4j ({@code train --framework dl4j}): the {@code dl4j} module's
 * {@link ResNetDropBlock} as {@link #network} builds it from the {@link TrainingRecipe}, the model
 * saved as {@value #MODEL_FILE} in DL4J's {@code ModelSerializer} format with the updater's state.
 * The keep probability and the learning rate run on DL4J's iteration count, which the saved model
 * carries, so a resumed run continues both, and the updater's momentum with them. ND4J's generator
 * is reseeded from the seed before the network is created (its initial weights) and at the start of
 * every epoch, with the epoch's order drawn from the epoch's seed.
 *
 * <p>A training batch's loss and accuracy are those of the training forward itself (DropBlock on),
 * read from the network's activations by a listener, so no extra forward is run. Not thread safe.
 */
public final class Dl4jTrainer implements Trainer {

    /** The file of the model inside the run directory's {@code model} and checkpoint folders. */
    public static final String MODEL_FILE = "model.zip";

    // The softmax output layer of ResNetDropBlock.
    private static final String OUTPUT = "output";
    // The probability floor of the cross-entropy, as DL4J's own loss clips its softmax.
    private static final double MIN_PROBABILITY = 1e-10;

    private final TrainConfig config;
    private final TrainingRecipe recipe;
    private final ImageTrainingData data;
    private final ISchedule learningRate;
    private final BatchMetrics batchMetrics = new BatchMetrics();
    private final Map<HeldOut, Nd4jBatches> heldOut = new EnumMap<>(HeldOut.class);
    private ComputationGraph net;
    private DropBlock dropBlock;
    private Nd4jBatches train;
    // What the DropBlocks zeroed in the epoch's training forwards so far.
    private DropCount epochDrops = DropCount.NONE;

    /**
     * Prepares a trainer.
     *
     * @param config the run's settings
     * @param recipe the run's optimizer and schedules
     * @param data the images
     */
    public Dl4jTrainer(TrainConfig config, TrainingRecipe recipe, ImageTrainingData data) {
        this.config = config;
        this.recipe = recipe;
        this.data = data;
        this.learningRate = learningRateSchedule(recipe);
        if (data.validationSize() > 0) {
            heldOut.put(
                    HeldOut.VALIDATION,
                    Nd4jBatches.of(data, data.validationImages(), config.batchSize(), null));
        }
        heldOut.put(
                HeldOut.TEST, Nd4jBatches.of(data, data.testImages(), config.batchSize(), null));
    }

    /**
     * Builds the DL4J ResNet of a run, the network of {@code train --framework dl4j} and {@code
     * spark-train}: the recipe's optimizer (DL4J's {@code Nesterovs} on the learning-rate schedule,
     * weight decay), its keep-probability schedule, and the configured regularizer in the
     * configured places.
     *
     * @param config the settings
     * @param recipe the optimizer and schedules
     * @param image {channels, height, width}
     * @param classes the number of classes
     * @return the network's configuration
     */
    public static ComputationGraphConfiguration network(
            TrainConfig config, TrainingRecipe recipe, int[] image, int classes) {
        double target = 1.0 - recipe.dropProb();
        ISchedule keepProb =
                recipe.dropSchedule() == TrainConfig.Schedule.LINEAR
                        ? KeepProbSchedule.linear(target, recipe.rampEndStep())
                        : new FixedSchedule(target);
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(config.depth())
                        .setOutSize(classes)
                        .setImageShape(image[0], image[1], image[2])
                        .optBlockSizePerStage(config.blockSizesApplied())
                        .optBlockFractionPerStage(config.blockFractionsApplied())
                        .optKeepProbSchedule(keepProb)
                        .optDropBlockOnShortcut(config.shortcut())
                        .optUpdater(new Nesterovs(learningRateSchedule(recipe), recipe.momentum()))
                        .optWeightDecay(recipe.weightDecay())
                        .optSeed(config.seed());
        if (config.regularizer() == Regularizer.NONE) {
            builder.optDropBlockStages();
        } else if (config.stages() != null) {
            builder.optDropBlockStages(
                    config.stages().stream().mapToInt(Integer::intValue).toArray());
        }
        return builder.build();
    }

    /**
     * Returns the recipe's learning rate as a DL4J schedule on the iteration count.
     *
     * @param recipe the recipe
     * @return the half cosine from the recipe's learning rate to 0 over its steps
     */
    public static ISchedule learningRateSchedule(TrainingRecipe recipe) {
        return new CosineSchedule(recipe.learningRate(), recipe.totalSteps());
    }

    /**
     * Returns the first DropBlock of a network, whose schedule the metrics report.
     *
     * @param conf the network's configuration
     * @return the DropBlock, or empty for a network without one
     */
    public static Optional<DropBlock> firstDropBlock(ComputationGraphConfiguration conf) {
        for (GraphVertex vertex : conf.getVertices().values()) {
            if (vertex instanceof LayerVertex) {
                Layer layer = ((LayerVertex) vertex).getLayerConf().getLayer();
                if (layer.getIDropout() instanceof DropBlock) {
                    return Optional.of((DropBlock) layer.getIDropout());
                }
            }
        }
        return Optional.empty();
    }

    /** {@inheritDoc} */
    @Override
    public void start(Optional<Path> checkpoint) {
        if (checkpoint.isPresent()) {
            net = restore(checkpoint.get().resolve(MODEL_FILE));
        } else {
            Nd4j.getRandom().setSeed(config.seed());
            net = new ComputationGraph(network(config, recipe, data.imageShape(), data.classes()));
            net.init();
        }
        dropBlock = firstDropBlock(net.getConfiguration()).orElse(null);
        net.setListeners(batchMetrics);
        // ND4J gives this thread 4 OpenMP threads on 2 cores: 1.5x slower steps.
        Nd4jThreads.limit(Runtime.getRuntime().availableProcessors());
    }

    /**
     * Restores a checkpoint's network with its updater, for a resumed run.
     *
     * @param file the checkpoint's {@value #MODEL_FILE}
     * @return the network
     * @throws BadInputException naming the file if it is missing, truncated or corrupt
     */
    public static ComputationGraph restore(Path file) {
        try {
            return ModelSerializer.restoreComputationGraph(file.toFile(), true);
        } catch (IOException | RuntimeException e) {
            // A missing, truncated or corrupt zip fails in DL4J's reader with any of these.
            throw new BadInputException(
                    "--resume: cannot load the checkpoint's model " + file + ": " + e, e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return OneDnn.describe(net);
    }

    /** {@inheritDoc} */
    @Override
    public int trainBatches() {
        return (int) ((data.trainSize() + config.batchSize() - 1) / config.batchSize());
    }

    /** {@inheritDoc} */
    @Override
    public void startEpoch(int epoch) {
        long epochSeed = config.epochSeed(epoch);
        Nd4j.getRandom().setSeed(epochSeed);
        train =
                Nd4jBatches.of(
                        data, data.trainImages(epoch), config.batchSize(), new Random(epochSeed));
        // Forwards before the epoch's (none in training mode so far) are not its own.
        DropBlock.takeDropCount(net);
        epochDrops = DropCount.NONE;
    }

    /** {@inheritDoc} */
    @Override
    public BatchResult trainBatch(int index) {
        DataSet batch = train.get(index);
        batchMetrics.expect(batch.getLabels());
        net.fit(batch);
        return batchMetrics.last;
    }

    /** {@inheritDoc} */
    @Override
    public int heldOutBatches(HeldOut set) {
        return batches(set).size();
    }

    /** {@inheritDoc} */
    @Override
    public BatchResult evaluateBatch(HeldOut set, int index) {
        DataSet batch = batches(set).get(index);
        INDArray probabilities = net.outputSingle(false, batch.getFeatures());
        return measure(probabilities, batch.getLabels());
    }

    private Nd4jBatches batches(HeldOut set) {
        Nd4jBatches batches = heldOut.get(set);
        if (batches == null) {
            throw new IllegalStateException("no " + set + " set: --val-split is 0");
        }
        return batches;
    }

    /** {@inheritDoc} */
    @Override
    public double realisedDropRate() {
        epochDrops = epochDrops.plus(DropBlock.takeDropCount(net));
        if (dropBlock == null) {
            return 0;
        }
        return epochDrops.units() == 0 ? Double.NaN : epochDrops.rate();
    }

    /** {@inheritDoc} */
    @Override
    public void recalibrateBatchNorm() {
        Nd4jBatches batches =
                Nd4jBatches.of(data, data.trainImages(config.epochs()), config.batchSize(), null);
        BatchNormRecalibration.recalibrate(
                net,
                new IteratorDataSetIterator(
                        IntStream.range(0, batches.size()).mapToObj(batches::get).iterator(),
                        config.batchSize()));
    }

    /** {@inheritDoc} */
    @Override
    public void endEpoch() {
        train = null;
    }

    /** {@inheritDoc} */
    @Override
    public void save(Path folder) throws IOException {
        ModelSerializer.writeModel(net, folder.resolve(MODEL_FILE).toFile(), true);
    }

    /** {@inheritDoc} */
    @Override
    public int stepsDone() {
        return net.getIterationCount();
    }

    /** {@inheritDoc} */
    @Override
    public double dropProb() {
        return dropBlock == null ? 0 : 1 - dropBlock.keepProbAt(lastStep(), 0);
    }

    /** {@inheritDoc} */
    @Override
    public double learningRate() {
        return learningRate.valueAt(lastStep(), 0);
    }

    private int lastStep() {
        return Math.max(0, net.getIterationCount() - 1);
    }

    /** Lets the network's arrays go; ND4J frees them with the garbage. */
    @Override
    public void close() {
        net = null;
        train = null;
    }

    /** The summed cross-entropy and right answers of softmax outputs against one-hot labels. */
    private static BatchResult measure(INDArray probabilities, INDArray labels) {
        INDArray picked = probabilities.castTo(DataType.DOUBLE).mul(labels.castTo(DataType.DOUBLE));
        INDArray perExample = picked.sum(1);
        double lossSum =
                -Transforms.log(Transforms.max(perExample, MIN_PROBABILITY, false), false)
                        .sumNumber()
                        .doubleValue();
        long correct =
                probabilities
                        .argMax(1)
                        .eq(labels.argMax(1))
                        .castTo(DataType.INT)
                        .sumNumber()
                        .longValue();
        return new BatchResult(labels.size(0), lossSum, correct);
    }

    /**
     * Reads the loss and accuracy of every training batch from the training forward, whose
     * activations DL4J hands to its listeners before the backward. The map holds every vertex but
     * the output layer, so the softmax is applied here to the output layer's input with its
     * parameters, which the backward has not changed yet.
     */
    private static final class BatchMetrics extends BaseTrainingListener {
        private INDArray labels;
        private BatchResult last = BatchResult.NONE;

        void expect(INDArray batchLabels) {
            labels = batchLabels;
        }

        /** {@inheritDoc} */
        @Override
        public void onForwardPass(Model model, Map<String, INDArray> activations) {
            ComputationGraph net = (ComputationGraph) model;
            String head = net.getConfiguration().getVertexInputs().get(OUTPUT).get(0);
            INDArray logits =
                    activations
                            .get(head)
                            .mmul(net.getParam(OUTPUT + "_W"))
                            .addiRowVector(net.getParam(OUTPUT + "_b"));
            last = measure(Transforms.softmax(logits, false), labels);
        }
    }
}
