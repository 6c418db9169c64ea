package io.github.dropblock4j.cli.spark;

import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.figure.CurvesPlot;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.ProgressBar;
import io.github.dropblock4j.dl4j.KeepProbSchedule;
import io.github.dropblock4j.dl4j.ResNetDropBlock;
import io.github.dropblock4j.spark.ScheduleAwareTrainingMaster;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * Trains the DL4J ResNet with DropBlock by parameter averaging on Spark and writes its run
 * directory: {@code metrics.csv}, {@code summary.json}, the model ({@code model/<model>.zip},
 * DL4J's {@code ModelSerializer} format with the updater) and {@code curves.png}, renamed into
 * place only when all are written.
 *
 * <p>The recipe of {@code train}: DropBlock after every batch norm of the chosen stages and on
 * their shortcuts, its keep probability falling linearly from 1 to {@code 1 - dropProb} over the
 * run so that the last step trains at the target; SGD with Nesterov momentum 0.9 and weight decay,
 * the learning rate divided by 10 at half of the run and again at three quarters ({@link
 * #learningRateSchedule}). The {@link ScheduleAwareTrainingMaster} keeps both schedules on the true
 * steps of training on every worker. One step is one minibatch of {@code batchSize} images on every
 * worker side by side; an epoch has {@link ScheduleAwareTrainingMaster#stepsPerEpoch} of them, and
 * the images beyond the last whole round of {@code workers * averagingFrequency} minibatches wait
 * for a later epoch's shuffle.
 *
 * <p>Each epoch reports the training loss, the mean over averaging rounds of the workers' loss on
 * their last minibatch of the round (what DL4J's parameter averaging reports); the training
 * accuracy, over all training images in evaluation mode after the epoch; the test loss and
 * accuracy, in evaluation mode; and the drop probability and learning rate of the epoch's last
 * step. Images are normalised by the training images' per-channel mean and standard deviation, as
 * in {@code train}. The seed fixes the initial weights and the data order; the masks are drawn in
 * Spark's worker threads, which it does not seed. Not thread safe.
 */
public final class SparkTrainingRun {

    private static final double MOMENTUM = 0.9;
    // Held-out images go in minibatches of the size DL4J's Spark evaluation uses.
    private static final int EVAL_BATCH = SparkComputationGraph.DEFAULT_EVAL_SCORE_BATCH_SIZE;

    private final TrainConfig config;
    private final SparkSettings settings;
    private final LabeledImages train;
    private final LabeledImages test;
    private final PrintWriter out;
    private final ProgressBar progress;
    private final float[] mean;
    private final float[] std;
    private final byte[] trainPixels;

    /**
     * Prepares a run.
     *
     * @param config the settings shared with {@code train}, whose limits the images already have
     * @param settings how to spread the run over Spark
     * @param train the training images
     * @param test the test images
     * @param out where the per-epoch lines go
     * @param err where the live progress bar goes, when the output is a terminal
     * @throws BadInputException if the two sets differ in shape or classes, or the training images
     *     do not fill one minibatch
     */
    public SparkTrainingRun(
            TrainConfig config,
            SparkSettings settings,
            LabeledImages train,
            LabeledImages test,
            PrintWriter out,
            PrintWriter err) {
        if (train.channels() != test.channels()
                || train.height() != test.height()
                || train.width() != test.width()
                || !train.classNames().equals(test.classNames())) {
            throw new BadInputException(
                    "--data: the training and test images differ in shape or classes ("
                            + train.name()
                            + ", "
                            + test.name()
                            + ")");
        }
        if (train.size() < config.batchSize()) {
            throw new BadInputException(
                    "--batch-size must be at most the "
                            + train.size()
                            + " training images, got "
                            + config.batchSize());
        }
        this.config = config;
        this.settings = settings;
        this.train = train;
        this.test = test;
        this.out = out;
        this.progress = new ProgressBar(err, System.console() != null);
        this.mean = train.channelMeans();
        this.std = train.channelStds();
        this.trainPixels = train.pixels();
    }

    /**
     * Returns the keep probability of every step: linear from 1 at step 0 to {@code 1 - dropProb}
     * at the last step, or that target throughout.
     *
     * @param config the settings
     * @param totalSteps the steps of the whole run
     * @return the schedule, keyed on the step
     */
    static ISchedule keepProbSchedule(TrainConfig config, int totalSteps) {
        double target = 1.0 - config.dropProb();
        return config.schedule() == TrainConfig.Schedule.LINEAR
                ? KeepProbSchedule.linear(target, Math.max(1, totalSteps - 1))
                : new FixedSchedule(target);
    }

    /**
     * Returns the learning rate of every step: {@code lr}, divided by 10 from half of the run and
     * by 100 from three quarters, the step schedule of the ResNet paper (He et al., arXiv
     * 1512.03385) in DL4J's own {@link MapSchedule}. DL4J 1.0.0-M2's {@link
     * org.nd4j.linalg.schedule.PolySchedule} cannot decay: it computes {@code lr * (1 + i /
     * maxIter)^power}, which grows.
     *
     * @param config the settings
     * @param totalSteps the steps of the whole run
     * @return the schedule, keyed on the step
     */
    static ISchedule learningRateSchedule(TrainConfig config, int totalSteps) {
        Map<Integer, Double> values = new TreeMap<>();
        values.put(0, (double) config.lr());
        values.put(Math.max(1, totalSteps / 2), config.lr() / 10.0);
        values.put(Math.max(1, totalSteps * 3 / 4), config.lr() / 100.0);
        return new MapSchedule(ScheduleType.ITERATION, values);
    }

    /**
     * Builds the network a run trains.
     *
     * @param config the settings
     * @param images the training images, for their shape and classes
     * @param keepProb the keep probability's schedule
     * @param learningRate the learning rate's schedule
     * @return the DL4J ResNet with DropBlock in the configured places
     */
    static ComputationGraphConfiguration network(
            TrainConfig config, LabeledImages images, ISchedule keepProb, ISchedule learningRate) {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(config.depth())
                        .setOutSize(images.numClasses())
                        .setImageShape(images.channels(), images.height(), images.width())
                        .optBlockSize(config.blockSize())
                        .optKeepProbSchedule(keepProb)
                        .optDropBlockOnShortcut(config.shortcut())
                        .optUpdater(new Nesterovs(learningRate, MOMENTUM))
                        .optWeightDecay(config.weightDecay())
                        .optSeed(config.seed());
        if (config.stages() != null) {
            builder.optDropBlockStages(config.stages().stream().mapToInt(s -> s).toArray());
        }
        return builder.build();
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
                                // the run caches each epoch's data itself and drops it after.
                                .repartionData(Repartition.Never)
                                .storageLevel(null)
                                .rngSeed(config.seed()));
        int stepsPerEpoch = master.stepsPerEpoch(train.size() / config.batchSize());
        int totalSteps = config.epochs() * stepsPerEpoch;
        long imagesPerEpoch = (long) stepsPerEpoch * settings.workers() * config.batchSize();
        ISchedule keepProb = keepProbSchedule(config, totalSteps);
        ISchedule learningRate = learningRateSchedule(config, totalSteps);
        SparkComputationGraph net =
                new SparkComputationGraph(
                        sc, network(config, train, keepProb, learningRate), master);
        JavaRDD<DataSet> trainImages = cached(sc.parallelize(inOrder(train), settings.workers()));
        JavaRDD<DataSet> testImages = cached(sc.parallelize(inOrder(test), settings.workers()));
        List<EpochMetrics> history = new ArrayList<>();
        double wall = 0;
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
            long start = System.nanoTime();
            List<Double> roundLosses = new ArrayList<>();
            int current = epoch;
            master.setRoundListener(
                    (round, rounds, steps, score) -> {
                        roundLosses.add(score);
                        double seconds = (System.nanoTime() - start) / 1e9;
                        progress.update(
                                current,
                                config.epochs(),
                                round,
                                rounds,
                                mean(roundLosses),
                                imagesPerEpoch * round / rounds / seconds,
                                1 - keepProb.valueAt(steps, current - 1));
                    });
            JavaRDD<DataSet> epochImages = cached(master.parallelizeEvenly(sc, shuffled(epoch)));
            net.fit(epochImages);
            epochImages.unpersist(false);
            progress.finish();
            double seconds = (System.nanoTime() - start) / 1e9;
            int lastStep = net.getNetwork().getIterationCount() - 1;
            Evaluation trained = net.evaluate(trainImages);
            Evaluation tested = net.evaluate(testImages);
            double testLoss = net.calculateScore(testImages, true);
            EpochMetrics m =
                    new EpochMetrics(
                            epoch,
                            lastStep + 1,
                            mean(roundLosses),
                            trained.accuracy(),
                            testLoss,
                            tested.accuracy(),
                            Double.NaN,
                            Double.NaN,
                            1 - keepProb.valueAt(lastStep, epoch - 1),
                            learningRate.valueAt(lastStep, epoch - 1),
                            seconds,
                            imagesPerEpoch / seconds,
                            Double.NaN);
            history.add(m);
            print(m);
            wall += (System.nanoTime() - start) / 1e9;
        }
        trainImages.unpersist(false);
        testImages.unpersist(false);
        EpochMetrics last = history.get(history.size() - 1);
        double trainSeconds = history.stream().mapToDouble(EpochMetrics::seconds).sum();
        RunSummary summary =
                new RunSummary(
                        config,
                        history,
                        last.testAccuracy(),
                        last.testLoss(),
                        Double.NaN,
                        wall,
                        imagesPerEpoch * history.size() / trainSeconds,
                        last.step());
        String model = config.model() + ".zip";
        dir.finish(
                summary,
                path ->
                        ModelSerializer.writeModel(
                                net.getNetwork(), path.resolve(model).toFile(), true),
                png ->
                        CurvesPlot.write(
                                history,
                                config.model() + ", dropblock, Spark " + settings.master(),
                                png));
        return summary;
    }

    private static JavaRDD<DataSet> cached(JavaRDD<DataSet> rdd) {
        return rdd.persist(StorageLevel.MEMORY_ONLY_SER());
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(v -> v).average().orElse(Double.NaN);
    }

    /** The held-out form: every image once, in order, the last minibatch possibly smaller. */
    private List<DataSet> inOrder(LabeledImages images) {
        int[] order = new int[images.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        byte[] pixels = images.pixels();
        List<DataSet> batches = new ArrayList<>();
        for (int from = 0; from < order.length; from += EVAL_BATCH) {
            int count = Math.min(EVAL_BATCH, order.length - from);
            batches.add(minibatch(images, pixels, order, from, count));
        }
        return batches;
    }

    /** An epoch's whole minibatches, in an order drawn from the seed and the epoch. */
    private List<DataSet> shuffled(int epoch) {
        int[] order = new int[train.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Random random = new Random(config.seed() * 10_007L + epoch);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        List<DataSet> batches = new ArrayList<>();
        for (int from = 0; from + config.batchSize() <= order.length; from += config.batchSize()) {
            batches.add(minibatch(train, trainPixels, order, from, config.batchSize()));
        }
        return batches;
    }

    /**
     * Images {@code order[from, from + count)} as NCHW features, normalised, and one-hot labels.
     */
    private DataSet minibatch(
            LabeledImages images, byte[] pixels, int[] order, int from, int count) {
        int channels = images.channels();
        int plane = images.height() * images.width();
        float[] features = new float[count * channels * plane];
        float[] labels = new float[count * images.numClasses()];
        for (int i = 0; i < count; i++) {
            int image = order[from + i];
            for (int c = 0; c < channels; c++) {
                int source = (image * channels + c) * plane;
                int target = (i * channels + c) * plane;
                for (int p = 0; p < plane; p++) {
                    features[target + p] = ((pixels[source + p] & 0xff) / 255f - mean[c]) / std[c];
                }
            }
            labels[i * images.numClasses() + images.label(image)] = 1;
        }
        long[] shape = {count, channels, images.height(), images.width()};
        return new DataSet(
                Nd4j.create(features, shape, 'c'),
                Nd4j.create(labels, new long[] {count, images.numClasses()}, 'c'));
    }

    private void print(EpochMetrics m) {
        out.printf(
                Locale.ROOT,
                "epoch %d/%d  step %d  train loss %.4f  train acc %.4f  test loss %.4f  test acc"
                        + " %.4f  drop %.4f  lr %.4f  %.1f s  %.0f img/s%n",
                m.epoch(),
                config.epochs(),
                m.step(),
                m.trainLoss(),
                m.trainAccuracy(),
                m.testLoss(),
                m.testAccuracy(),
                m.dropProb(),
                m.learningRate(),
                m.seconds(),
                m.samplesPerSecond());
        out.flush();
    }
}
