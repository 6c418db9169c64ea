package io.github.dropblock4j.cli.spark;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.BatchResult;
import io.github.dropblock4j.cli.train.HeldOut;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.Trainer;
import io.github.dropblock4j.cli.train.TrainingRecipe;
import io.github.dropblock4j.cli.train.dl4j.Dl4jTrainer;
import io.github.dropblock4j.cli.train.dl4j.Nd4jBatches;
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.spark.ScheduleAwareTrainingMaster;
import io.github.dropblock4j.spark.WorkerFacts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * The {@link Trainer} of {@code spark-train}: the network of {@code train --framework dl4j} ({@link
 * Dl4jTrainer#network}, the same {@link TrainingRecipe}) trained by parameter averaging on Spark,
 * one averaging round per batch of the epoch loop. A round is {@code workers * averagingFrequency}
 * minibatches of {@code batchSize} images, {@code averagingFrequency} on each worker side by side,
 * then averaged into the driver's network; the {@link ScheduleAwareTrainingMaster} keeps the
 * keep-probability and learning-rate schedules on the true steps of training on every worker. An
 * epoch has {@link #trainBatches()} rounds; the images beyond the last whole round wait for a later
 * epoch's shuffle, and fewer minibatches than one round make a single, smaller round.
 *
 * <p>Because each round is its own Spark job on its own minibatches, shipped from the driver, the
 * loop checkpoints and stops between rounds, and a round whose task fails (a lost executor) is
 * recomputed by Spark's task retry from the driver's data: the round is redone on the executors
 * that are left. The checkpoint is the driver's network in DL4J's {@code ModelSerializer} format
 * with its updater and its iteration and epoch counts, {@value Dl4jTrainer#MODEL_FILE} as {@code
 * train --framework dl4j} writes it, so a resumed run continues its schedules and momentum.
 *
 * <p>A round's loss is what DL4J's parameter averaging reports, the workers' mean loss on their
 * last minibatch of the round, less the weight-decay term DL4J adds (that of the averaged weights).
 * The workers do not report the accuracy of their steps ({@link #reportsTrainAccuracy()} is false);
 * instead {@link #endEpoch()} measures the accuracy over all training images in evaluation mode.
 * Held-out sets are measured in one distributed pass each. Not thread safe.
 */
public final class SparkTrainer implements Trainer {

    // Held-out images go in minibatches of the size DL4J's Spark evaluation uses.
    private static final int EVAL_BATCH = SparkComputationGraph.DEFAULT_EVAL_SCORE_BATCH_SIZE;
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final JavaSparkContext sc;
    private final TrainConfig config;
    private final SparkSettings settings;
    private final ImageTrainingData data;
    private final ScheduleAwareTrainingMaster master;
    private final TrainingRecipe recipe;
    private final ISchedule learningRate;
    private final int minibatches;
    private SparkComputationGraph net;
    private DropBlock dropBlock;
    private JavaRDD<DataSet> trainImages;
    private JavaRDD<DataSet> testImages;
    private List<DataSet> epochBatches;
    private double lastRoundScore = Double.NaN;
    private double trainEvalAccuracy = Double.NaN;
    private Path settingsFile;

    /**
     * Prepares a trainer.
     *
     * @param sc the Spark context, which the caller stops
     * @param config the settings shared with {@code train}
     * @param settings how to spread the run over Spark
     * @param data the images, chosen and standardised as {@code config} says
     * @throws BadInputException if the training images do not fill one minibatch
     */
    public SparkTrainer(
            JavaSparkContext sc,
            TrainConfig config,
            SparkSettings settings,
            ImageTrainingData data) {
        if (data.trainSize() < config.batchSize()) {
            throw new BadInputException(
                    "--batch-size must be at most the "
                            + data.trainSize()
                            + " training images, got "
                            + config.batchSize());
        }
        this.sc = sc;
        this.config = config;
        this.settings = settings;
        this.data = data;
        this.master =
                new ScheduleAwareTrainingMaster(
                        new ParameterAveragingTrainingMaster.Builder(
                                        settings.workers(), config.batchSize())
                                .batchSizePerWorker(config.batchSize())
                                .averagingFrequency(settings.averagingFrequency())
                                .workerPrefetchNumBatches(0)
                                .saveUpdater(true)
                                .rddTrainingApproach(RDDTrainingApproach.Direct)
                                // A round's RDD gives each worker a partition of its own.
                                .repartionData(Repartition.Never)
                                .storageLevel(null)
                                .rngSeed(config.seed()));
        this.minibatches = (int) (data.trainSize() / config.batchSize());
        this.recipe = TrainingRecipe.of(config, master.stepsPerEpoch(minibatches));
        this.learningRate = Dl4jTrainer.learningRateSchedule(recipe);
    }

    /**
     * Returns the recipe the run trains with, its steps counted as Spark takes them.
     *
     * @return the recipe
     */
    public TrainingRecipe recipe() {
        return recipe;
    }

    /**
     * Writes the run's {@code spark.json}: the {@link SparkSettings} and, under {@code executors},
     * the {@link WorkerFacts} the workers reported (their executor, oneDNN line and native
     * threads), and rewrites it after every epoch.
     *
     * @param file the file, in the partial run directory
     * @throws IOException if it cannot be written
     */
    public void writeSettingsTo(Path file) throws IOException {
        settingsFile = file;
        writeSettings();
    }

    private void writeSettings() throws IOException {
        JsonObject json = GSON.toJsonTree(settings).getAsJsonObject();
        json.add("executors", GSON.toJsonTree(master.workerFacts()));
        Files.writeString(settingsFile, GSON.toJson(json), StandardCharsets.UTF_8);
    }

    /** {@inheritDoc} */
    @Override
    public void start(Optional<Path> checkpoint) {
        ComputationGraph graph;
        if (checkpoint.isPresent()) {
            graph = Dl4jTrainer.restore(checkpoint.get().resolve(Dl4jTrainer.MODEL_FILE));
        } else {
            Nd4j.getRandom().setSeed(config.seed());
            graph =
                    new ComputationGraph(
                            Dl4jTrainer.network(config, recipe, data.imageShape(), data.classes()));
            graph.init();
        }
        net = new SparkComputationGraph(sc, graph, master);
        dropBlock = Dl4jTrainer.firstDropBlock(graph.getConfiguration()).orElse(null);
        master.setRoundListener((round, rounds, steps, score) -> lastRoundScore = score);
        trainImages = inOrder(data.trainImages(1));
        testImages = inOrder(data.testImages());
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        // The driver's network; the executors report their own (spark.json).
        return OneDnn.describe(net.getNetwork()) + " on the driver";
    }

    /**
     * Returns the averaging rounds of an epoch.
     *
     * @return the rounds, at least 1
     */
    @Override
    public int trainBatches() {
        int round = settings.workers() * settings.averagingFrequency();
        return Math.max(1, minibatches / round);
    }

    /** {@inheritDoc} */
    @Override
    public void startEpoch(int epoch) {
        Nd4jBatches shuffled =
                Nd4jBatches.of(
                        data,
                        data.trainImages(epoch),
                        config.batchSize(),
                        new Random(config.epochSeed(epoch)));
        epochBatches = IntStream.range(0, minibatches).mapToObj(shuffled::get).toList();
    }

    /**
     * Trains one averaging round: its minibatches, {@code averagingFrequency} on each worker.
     *
     * @param index the round, in [0, {@link #trainBatches()})
     * @return the round's images and loss; no accuracy
     */
    @Override
    public BatchResult trainBatch(int index) {
        int round = settings.workers() * settings.averagingFrequency();
        List<DataSet> batches =
                minibatches < round
                        ? epochBatches
                        : epochBatches.subList(index * round, (index + 1) * round);
        // parallelize slices a list into contiguous, equal parts: one per worker.
        JavaRDD<DataSet> rdd = master.parallelizeEvenly(sc, batches);
        // The master directly, not net.fit, which would count every round as an epoch.
        master.executeTraining(net, rdd);
        long samples = (long) batches.size() * config.batchSize();
        return new BatchResult(samples, (lastRoundScore - weightDecayTerm()) * samples, 0);
    }

    /**
     * Returns the realised drop rate of the epoch's rounds, from the counts the workers report
     * ({@link ScheduleAwareTrainingMaster#takeDropCount()}).
     *
     * @return in [0, 1]; 0 for a network without DropBlock; NaN where this process trained none of
     *     the epoch's rounds
     */
    @Override
    public double realisedDropRate() {
        DropCount drops = master.takeDropCount();
        if (dropBlock == null) {
            return 0;
        }
        return drops.units() == 0 ? Double.NaN : drops.rate();
    }

    /**
     * Not offered: {@code spark-train} has no {@code --recalibrate-bn}.
     *
     * @throws IllegalStateException always
     */
    @Override
    public void recalibrateBatchNorm() {
        throw new IllegalStateException("spark-train has no --recalibrate-bn");
    }

    /** {@inheritDoc} */
    @Override
    public boolean reportsTrainAccuracy() {
        return false;
    }

    /**
     * Returns the images of the minibatches an epoch's rounds train: whole rounds, or all of them
     * when they do not fill one.
     *
     * @return the images
     */
    @Override
    public OptionalLong imagesPerEpoch() {
        int round = settings.workers() * settings.averagingFrequency();
        long trained = minibatches < round ? minibatches : (long) (minibatches / round) * round;
        return OptionalLong.of(trained * config.batchSize());
    }

    /** {@inheritDoc} */
    @Override
    public Optional<String> where() {
        return Optional.of("Spark " + settings.master());
    }

    /**
     * Returns 1: a held-out set is measured in one distributed pass.
     *
     * @param set the set; spark-train has only the test set
     * @return 1
     */
    @Override
    public int heldOutBatches(HeldOut set) {
        return 1;
    }

    /** {@inheritDoc} */
    @Override
    public BatchResult evaluateBatch(HeldOut set, int index) {
        if (set != HeldOut.TEST) {
            throw new IllegalStateException("spark-train has no " + set + " set");
        }
        return measure(testImages);
    }

    private BatchResult measure(JavaRDD<DataSet> images) {
        Evaluation evaluation = net.evaluate(images);
        double meanLoss = net.calculateScore(images, true) - weightDecayTerm();
        long samples = evaluation.getNumRowCounter();
        return new BatchResult(
                samples, meanLoss * samples, Math.round(evaluation.accuracy() * samples));
    }

    /**
     * Ends the epoch: measures the accuracy over all training images in evaluation mode, counts the
     * epoch in the network, as DL4J's {@code fit} would, and records the workers' facts.
     */
    @Override
    public void endEpoch() {
        epochBatches = null;
        trainEvalAccuracy = net.evaluate(trainImages).accuracy();
        net.getNetwork().incrementEpochCount();
        if (settingsFile != null) {
            try {
                writeSettings();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + settingsFile, e);
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public double trainEvalAccuracy() {
        return trainEvalAccuracy;
    }

    /** {@inheritDoc} */
    @Override
    public void save(Path folder) throws IOException {
        ModelSerializer.writeModel(
                net.getNetwork(), folder.resolve(Dl4jTrainer.MODEL_FILE).toFile(), true);
    }

    /** {@inheritDoc} */
    @Override
    public int stepsDone() {
        return net.getNetwork().getIterationCount();
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
        return Math.max(0, net.getNetwork().getIterationCount() - 1);
    }

    /** Drops the held-out images kept on the executors. */
    @Override
    public void close() {
        if (trainImages != null) {
            trainImages.unpersist(false);
            testImages.unpersist(false);
        }
        epochBatches = null;
    }

    /**
     * Every image once, in order, in minibatches as DL4J's Spark evaluation cuts them, cached on
     * the executors. Cached rather than checkpointed locally, so that the partitions of a lost
     * executor are recomputed from the driver's list.
     */
    private JavaRDD<DataSet> inOrder(LabeledImages images) {
        Nd4jBatches inOrder = Nd4jBatches.of(data, images, EVAL_BATCH, null);
        List<DataSet> batches = IntStream.range(0, inOrder.size()).mapToObj(inOrder::get).toList();
        return sc.parallelize(batches, settings.workers()).cache();
    }

    // What DL4J adds to every minibatch's mean loss in its scores, for the driver's weights.
    private double weightDecayTerm() {
        return net.getNetwork().calcRegularizationScore(true);
    }
}
