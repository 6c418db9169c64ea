package io.github.dropblock4j.cli;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.listener.TrainingListener.BatchData;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import io.github.dropblock4j.djl.DropBlockScheduler;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Trains one ResNet with the configured regularizer and writes its run directory.
 *
 * <p>SGD with momentum 0.9 and weight decay, the learning rate on a cosine from {@code --lr} to 0
 * over the run, and the drop probability on a {@link DropBlockScheduler} (linear from 0 to the
 * target over the whole run, or constant). The engine is reseeded at the start of every epoch,
 * so shuffling and masks of an epoch do not depend on what came before, and a resumed run redoes
 * an interrupted epoch exactly. What a resume cannot restore: SGD's momentum buffers (DJL does
 * not save optimizer state), which restart from zero.
 */
final class TrainingRun {

    private static final float MOMENTUM = 0.9f;

    private final TrainConfig config;
    private final TrainingData data;
    private final PrintWriter out;
    private final ProgressBar progress;

    TrainingRun(TrainConfig config, TrainingData data, PrintWriter out, PrintWriter err, boolean live) {
        this.config = config;
        this.data = data;
        this.out = out;
        this.progress = new ProgressBar(err, live);
    }

    /**
     * Trains, from the last checkpoint of {@code dir} if there is one, and writes the results.
     *
     * @param dir the run directory
     * @return the summary of the finished run
     */
    RunSummary run(RunDirectory dir) throws IOException {
        RunDirectory.State resumed = dir.loadState().orElse(null);
        List<EpochMetrics> history = new ArrayList<>(resumed == null ? List.of() : resumed.epochs());
        int startEpoch = resumed == null ? 0 : resumed.epochsDone();
        double wallBefore = resumed == null ? 0 : resumed.wallSeconds();
        int stepsPerEpoch = (int) ((data.trainSize() + config.batchSize - 1) / config.batchSize);
        int totalSteps = stepsPerEpoch * config.epochs;
        int stepsDone = resumed == null ? 0 : resumed.steps();
        Shape imageShape = data.imageShape();

        try (Model model = Model.newInstance("dropblock4j")) {
            model.setBlock(config.buildNetwork(imageShape, data.classes()));
            // Without DropBlocks (--regularizer none) the schedule drives nothing: report 0.
            boolean regularized = !DropBlockScheduler.dropBlocksIn(model.getBlock()).isEmpty();
            if (resumed != null) {
                try {
                    model.load(dir.checkpointModel(), RunDirectory.MODEL);
                } catch (MalformedModelException e) {
                    throw new BadInputException("--resume: checkpoint model in " + dir.checkpointModel()
                            + " cannot be loaded: " + e.getMessage(), e);
                }
            }
            DropBlockScheduler scheduler = config.schedule == TrainConfig.Schedule.LINEAR
                    ? DropBlockScheduler.linear(config.dropProb, totalSteps)
                    : DropBlockScheduler.of(Tracker.fixed(config.dropProb));
            Tracker cosine = CosineTracker.builder().setBaseValue(config.lr).optFinalValue(0f)
                    .setMaxUpdates(totalSteps).build();
            // A new trainer counts optimizer updates from 0; continue the cosine where it was.
            int offset = stepsDone;
            Tracker learningRate = update -> cosine.getNewValue(update + offset);
            DefaultTrainingConfig trainingConfig = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(learningRate).optMomentum(MOMENTUM)
                            .optWeightDecays(config.weightDecay).build())
                    .addTrainingListeners(scheduler);
            try (Trainer trainer = model.newTrainer(trainingConfig);
                    NDManager dataManager = trainer.getManager().newSubManager()) {
                // The seed fixes the initial weights: arms that differ only in their regularizer
                // (which has no parameters) start from the same weights.
                Engine.getInstance().setRandomSeed(config.seed);
                trainer.initialize(new Shape(config.batchSize).addAll(imageShape));
                ArrayDataset validation = data.validationSize() > 0
                        ? data.validation(dataManager, config.batchSize) : null;
                ArrayDataset test = data.test(dataManager, config.batchSize);
                for (int epoch = startEpoch + 1; epoch <= config.epochs; epoch++) {
                    long start = System.nanoTime();
                    Engine.getInstance().setRandomSeed(config.seed * 10_007 + epoch);
                    double[] train;
                    try (NDManager epochManager = dataManager.newSubManager()) {
                        ArrayDataset trainSet = data.train(epochManager, config.batchSize, epoch);
                        train = trainEpoch(trainer, trainSet, scheduler, epoch, stepsPerEpoch);
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    double[] val = validation == null ? new double[] {Double.NaN, Double.NaN}
                            : evaluate(trainer, validation);
                    boolean testNow = epoch % config.testEvery == 0 || epoch == config.epochs;
                    double[] tested = testNow ? evaluate(trainer, test) : new double[] {Double.NaN, Double.NaN};
                    stepsDone = scheduler.getStep();
                    EpochMetrics m = new EpochMetrics(epoch, stepsDone, train[0], train[1], tested[0], tested[1],
                            val[0], val[1], regularized ? scheduler.dropProbAt(stepsDone) : 0,
                            learningRate.getNewValue(stepsDone - offset), seconds, data.trainSize() / seconds,
                            ResidentMemory.megabytes());
                    history.add(m);
                    out.printf(Locale.ROOT, "epoch %d/%d  train loss %.4f  train acc %.4f%s%s  drop %.4f  %.1f s"
                                    + "  %.0f img/s  rss %.0f MiB%n",
                            epoch, config.epochs, m.trainLoss(), m.trainAccuracy(),
                            validation == null ? "" : String.format(Locale.ROOT, "  val loss %.4f  val acc %.4f",
                                    m.validationLoss(), m.validationAccuracy()),
                            testNow ? String.format(Locale.ROOT, "  test loss %.4f  test acc %.4f", m.testLoss(),
                                    m.testAccuracy()) : "",
                            m.dropProb(), seconds, m.samplesPerSecond(), m.residentMb());
                    out.flush();
                    double wall = wallBefore + (System.nanoTime() - start) / 1e9;
                    wallBefore = wall;
                    dir.saveCheckpoint(path -> model.save(path, RunDirectory.MODEL),
                            new RunDirectory.State(config, epoch, stepsDone, history, wall));
                }
            }
            EpochMetrics last = history.get(history.size() - 1);
            double trainSeconds = history.stream().mapToDouble(EpochMetrics::seconds).sum();
            RunSummary summary = new RunSummary(config, history, last.testAccuracy(), last.testLoss(),
                    last.validationAccuracy(), wallBefore, data.trainSize() * history.size() / trainSeconds,
                    stepsDone);
            dir.finish(summary, path -> model.save(path, RunDirectory.MODEL));
            return summary;
        }
    }

    /** Returns {mean loss, accuracy} over the epoch's training batches. */
    private double[] trainEpoch(Trainer trainer, ArrayDataset train, DropBlockScheduler scheduler, int epoch,
            int batches) {
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        int index = 0;
        long start = System.nanoTime();
        for (Batch batch : iterate(trainer, train)) {
            try (batch) {
                NDList data = batch.getData();
                NDList labels = batch.getLabels();
                BatchData batchData = new BatchData(batch, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDList preds = trainer.forward(data, labels);
                    NDArray loss = trainer.getLoss().evaluate(labels, preds);
                    collector.backward(loss);
                    float value = loss.getFloat();
                    if (!Float.isFinite(value)) {
                        throw new IllegalStateException(String.format(Locale.ROOT,
                                "training diverged: loss %s at epoch %d, step %d (lr %.4g)", value, epoch,
                                scheduler.getStep(), config.lr));
                    }
                    long n = labels.singletonOrThrow().size();
                    lossSum += value * n;
                    seen += n;
                    correct += countCorrect(preds.singletonOrThrow(), labels.singletonOrThrow());
                    batchData.getLabels().put(labels.head().getDevice(), labels);
                    batchData.getPredictions().put(preds.head().getDevice(), preds);
                }
                trainer.step();
                trainer.notifyListeners(listener -> listener.onTrainingBatch(trainer, batchData));
                index++;
                double elapsed = (System.nanoTime() - start) / 1e9;
                progress.update(epoch, config.epochs, index, batches, lossSum / seen, seen / elapsed,
                        scheduler.dropProbAt(scheduler.getStep()));
            }
        }
        progress.finish();
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    /** Returns {mean loss, accuracy} over a held-out set, in evaluation mode. */
    private static double[] evaluate(Trainer trainer, ArrayDataset test) {
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        for (Batch batch : iterate(trainer, test)) {
            try (batch) {
                NDList labels = batch.getLabels();
                NDList preds = trainer.evaluate(batch.getData());
                long n = labels.singletonOrThrow().size();
                lossSum += trainer.getLoss().evaluate(labels, preds).getFloat() * n;
                correct += countCorrect(preds.singletonOrThrow(), labels.singletonOrThrow());
                seen += n;
            }
        }
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    private static long countCorrect(NDArray logits, NDArray labels) {
        return logits.argMax(1).toType(DataType.INT64, false).eq(labels.toType(DataType.INT64, false)).sum()
                .getLong();
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
