package io.github.dropblock4j.cli.spark;

import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.ProgressBar;
import io.github.dropblock4j.cli.train.TrainingHistory;
import io.github.dropblock4j.cli.train.TrainingRecipe;
import io.github.dropblock4j.cli.train.dl4j.Dl4jTrainer;
import io.github.dropblock4j.cli.train.dl4j.Nd4jBatches;
import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.spark.ScheduleAwareTrainingMaster;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Trains the DL4J ResNet with DropBlock by parameter averaging on Spark and writes its run
 * directory: {@code metrics.csv}, {@code summary.json}, the model ({@code model/<model>.zip},
 * DL4J's {@code ModelSerializer} format with the updater) and {@code curves.png}, renamed into
 * place only when all are written.
 *
 * <p>The recipe of {@code train} ({@link TrainingRecipe}) on the network of {@code train
 * --framework dl4j} ({@link Dl4jTrainer#network}): DropBlock after every batch norm of the chosen
 * stages and on their shortcuts, its keep probability falling linearly from 1 to {@code 1 -
 * dropProb} so that the last step trains at the target; SGD with Nesterov momentum 0.9 and weight
 * decay, the learning rate on a cosine from {@code lr} to 0 over the run. The {@link
 * ScheduleAwareTrainingMaster} keeps both schedules on the true steps of training on every worker.
 * One step is one minibatch of {@code batchSize} images on every worker side by side; an epoch has
 * {@link ScheduleAwareTrainingMaster#stepsPerEpoch} of them, and the images beyond the last whole
 * round of {@code workers * averagingFrequency} minibatches wait for a later epoch's shuffle. The
 * images are {@code train}'s ({@link ImageTrainingData}: limits, standardisation), cut into {@link
 * Nd4jBatches}.
 *
 * <p>Each epoch reports the training loss, the mean over averaging rounds of the workers' loss on
 * their last minibatch of the round (what DL4J's parameter averaging reports); no training accuracy
 * of the training steps, which the workers do not report, but the accuracy over all training images
 * in evaluation mode after the epoch, in its own column ({@code train_eval_accuracy}); the test
 * loss and accuracy, in evaluation mode; and the drop probability and learning rate of the epoch's
 * last step. Losses are cross-entropies, as {@code train}'s: DL4J's scores add the weight-decay
 * term, which is taken off again (for the workers' losses, that of the averaged weights). The seed
 * fixes the initial weights and the data order; the masks are drawn in Spark's worker threads,
 * which it does not seed. Not thread safe.
 */
public final class SparkTrainingRun {

    // Held-out images go in minibatches of the size DL4J's Spark evaluation uses.
    private static final int EVAL_BATCH = SparkComputationGraph.DEFAULT_EVAL_SCORE_BATCH_SIZE;

    private final TrainConfig config;
    private final SparkSettings settings;
    private final ImageTrainingData data;
    private final PrintWriter out;
    private final ProgressBar progress;

    /**
     * Prepares a run.
     *
     * @param config the settings shared with {@code train}
     * @param settings how to spread the run over Spark
     * @param data the images, chosen and standardised as {@code config} says
     * @param out where the per-epoch lines go
     * @param err where the live progress bar goes, when the output is a terminal
     * @throws BadInputException if the training images do not fill one minibatch
     */
    public SparkTrainingRun(
            TrainConfig config,
            SparkSettings settings,
            ImageTrainingData data,
            PrintWriter out,
            PrintWriter err) {
        if (data.trainSize() < config.batchSize()) {
            throw new BadInputException(
                    "--batch-size must be at most the "
                            + data.trainSize()
                            + " training images, got "
                            + config.batchSize());
        }
        this.config = config;
        this.settings = settings;
        this.data = data;
        this.out = out;
        this.progress = ProgressBar.onTerminal(err);
    }

    /**
     * Trains and writes the results.
     *
     * @param sc the Spark context
     * @param dir the run directory, created
     * @return the summary of the finished run
     * @throws IOException if a result cannot be written
     */
    public RunSummary run(JavaSparkContext sc, RunDirectory dir) throws IOException {
        ScheduleAwareTrainingMaster master =
                new ScheduleAwareTrainingMaster(
                        new ParameterAveragingTrainingMaster.Builder(
                                        settings.workers(), config.batchSize())
                                .batchSizePerWorker(config.batchSize())
                                .averagingFrequency(settings.averagingFrequency())
                                .workerPrefetchNumBatches(0)
                                .saveUpdater(true)
                                .rddTrainingApproach(RDDTrainingApproach.Direct)
                                // parallelizeEvenly gives each worker a partition of its own, and
                                // the run keeps each epoch's data itself and drops it after.
                                .repartionData(Repartition.Never)
                                .storageLevel(null)
                                .rngSeed(config.seed()));
        int minibatches = (int) (data.trainSize() / config.batchSize());
        int stepsPerEpoch = master.stepsPerEpoch(minibatches);
        long imagesPerEpoch = (long) stepsPerEpoch * settings.workers() * config.batchSize();
        TrainingRecipe recipe = TrainingRecipe.of(config, stepsPerEpoch);
        ComputationGraphConfiguration conf =
                Dl4jTrainer.network(config, recipe, data.imageShape(), data.classes());
        ISchedule learningRate = Dl4jTrainer.learningRateSchedule(recipe);
        Optional<DropBlock> dropBlock = Dl4jTrainer.firstDropBlock(conf);
        IntToDoubleFunction dropProb =
                step -> dropBlock.map(d -> 1 - d.keepProbAt(step, 0)).orElse(0.0);
        SparkComputationGraph net = new SparkComputationGraph(sc, conf, master);
        out.println(OneDnn.describe(net.getNetwork()));
        JavaRDD<DataSet> trainImages = heldOut(sc, data.trainImages(1));
        JavaRDD<DataSet> testImages = heldOut(sc, data.testImages());
        TrainingHistory history = new TrainingHistory(config, dir, out);
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
            history.startEpoch();
            List<Double> roundLosses = new ArrayList<>();
            int current = epoch;
            master.setRoundListener(
                    (round, rounds, steps, score) -> {
                        roundLosses.add(score - weightDecayTerm(net));
                        progress.update(
                                current,
                                config.epochs(),
                                round,
                                rounds,
                                mean(roundLosses),
                                imagesPerEpoch * round / rounds / history.epochSeconds(),
                                dropProb.applyAsDouble(steps));
                    });
            Nd4jBatches shuffled =
                    Nd4jBatches.of(
                            data,
                            data.trainImages(epoch),
                            config.batchSize(),
                            new Random(config.epochSeed(epoch)));
            JavaRDD<DataSet> epochImages =
                    keep(master.parallelizeEvenly(sc, batches(shuffled, minibatches)));
            net.fit(epochImages);
            epochImages.unpersist(false);
            progress.finish();
            double seconds = history.epochSeconds();
            int lastStep = net.getNetwork().getIterationCount() - 1;
            Evaluation trained = net.evaluate(trainImages);
            Evaluation tested = net.evaluate(testImages);
            double testLoss = net.calculateScore(testImages, true) - weightDecayTerm(net);
            history.endEpoch(
                    EpochMetrics.builder()
                            .setEpoch(epoch)
                            .setStep(lastStep + 1)
                            .optTrain(mean(roundLosses), Double.NaN)
                            .optTrainEvalAccuracy(trained.accuracy())
                            .optTest(testLoss, tested.accuracy())
                            .optSchedules(
                                    dropProb.applyAsDouble(lastStep),
                                    learningRate.valueAt(lastStep, epoch - 1))
                            .optSpeed(seconds, imagesPerEpoch / seconds)
                            .build());
        }
        trainImages.unpersist(false);
        testImages.unpersist(false);
        String model = config.model() + ".zip";
        return history.finish(
                path ->
                        ModelSerializer.writeModel(
                                net.getNetwork(), path.resolve(model).toFile(), true),
                "Spark " + settings.master(),
                imagesPerEpoch);
    }

    /** The first {@code count} batches, all whole. */
    private static List<DataSet> batches(Nd4jBatches batches, int count) {
        return IntStream.range(0, count).mapToObj(batches::get).toList();
    }

    /** Every image once, in order, in minibatches as DL4J's Spark evaluation cuts them. */
    private JavaRDD<DataSet> heldOut(JavaSparkContext sc, LabeledImages images) {
        Nd4jBatches inOrder = Nd4jBatches.of(data, images, EVAL_BATCH, null);
        return keep(sc.parallelize(batches(inOrder, inOrder.size()), settings.workers()));
    }

    // Kept by the executors and cut loose from the driver's list before any use: a partition of
    // a parallelized list carries its images, and every task of every round would ship them again.
    // An executor lost mid-epoch then fails the run instead of recomputing from the driver.
    private static JavaRDD<DataSet> keep(JavaRDD<DataSet> rdd) {
        rdd.rdd().localCheckpoint();
        rdd.count();
        return rdd;
    }

    // What DL4J adds to every minibatch's mean loss in its scores, for the driver's weights.
    private static double weightDecayTerm(SparkComputationGraph net) {
        return net.getNetwork().calcRegularizationScore(true);
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(v -> v).average().orElse(Double.NaN);
    }
}
