package io.github.dropblock4j.cli.train;

import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunDirectory.IoConsumer;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.dl4j.CosineSchedule;
import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.KeepProbSchedule;
import io.github.dropblock4j.dl4j.OneDnn;
import io.github.dropblock4j.dl4j.ResNetDropBlock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
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
 * Trains one ResNet with the configured regularizer on Deeplearning4j ({@code train --framework
 * dl4j}) and writes the same run directory as {@link TrainingRun}: {@code config.json}, {@code
 * metrics.csv}, {@code summary.json}, the model ({@code model/model.zip}, DL4J's {@code
 * ModelSerializer} format with the updater's state) and {@code curves.png}.
 *
 * <p>The network is the {@code dl4j} module's {@link ResNetDropBlock}, DropBlock placed as in the
 * paper; the keep probability follows {@link KeepProbSchedule#linear(double, int)} from 1 to {@code
 * 1 - --drop-prob} over the run, or is fixed. SGD with Nesterov momentum 0.9 (DL4J's {@code
 * Nesterovs}; the DJL path uses plain momentum) and weight decay, the learning rate on a cosine
 * from {@code --lr} to 0 over the run ({@link CosineSchedule}). Both schedules run on DL4J's
 * iteration count, which the saved model carries, so a resumed run continues them, and the
 * updater's momentum with them. ND4J's generator is reseeded from {@code --seed} before the network
 * is created (its initial weights) and at the start of every epoch, which also fixes the epoch's
 * order.
 *
 * <p>The training loss and accuracy are those of the training forward itself (DropBlock on), read
 * from the network's activations by a listener, so no extra forward is run.
 */
public final class Dl4jTrainingRun {

    /** The file of the model inside the run directory's {@code model} and checkpoint folders. */
    static final String MODEL_FILE = "model.zip";

    // The softmax output layer of ResNetDropBlock.
    private static final String OUTPUT = "output";

    private static final double MOMENTUM = 0.9;
    // The probability floor of the cross-entropy, as DL4J's own loss clips its softmax.
    private static final double MIN_PROBABILITY = 1e-10;

    private final TrainConfig config;
    private final ImageTrainingData data;
    private final RunConsole console;

    /**
     * Prepares a run.
     *
     * @param config the run's settings
     * @param data the images
     * @param console where the run reports; its stop request stops the run after the current epoch
     */
    Dl4jTrainingRun(TrainConfig config, ImageTrainingData data, RunConsole console) {
        this.config = config;
        this.data = data;
        this.console = console;
    }

    /**
     * Trains, from the last checkpoint of {@code dir} if there is one, and writes the results.
     *
     * @param dir the run directory
     * @return the summary of the finished run
     * @throws RunStoppedException if a stop was requested; the epoch's checkpoint is written first
     */
    RunSummary run(RunDirectory dir) throws IOException {
        TrainingHistory history = new TrainingHistory(config, dir, console.out());
        int stepsPerEpoch =
                (int) ((data.trainSize() + config.batchSize() - 1) / config.batchSize());
        int totalSteps = stepsPerEpoch * config.epochs();
        CosineSchedule learningRate = new CosineSchedule(config.lr(), totalSteps);
        ComputationGraph net;
        if (history.isResumed()) {
            net = restore(dir);
        } else {
            Nd4j.getRandom().setSeed(config.seed());
            net =
                    new ComputationGraph(
                            network(
                                    config,
                                    data.imageShape(),
                                    data.classes(),
                                    keepProbSchedule(config, totalSteps),
                                    learningRate));
            net.init();
        }
        console.out().println(OneDnn.describe(net));
        IoConsumer<Path> writeModel =
                path -> ModelSerializer.writeModel(net, path.resolve(MODEL_FILE).toFile(), true);
        DropBlock dropBlock = firstDropBlock(net.getConfiguration());
        BatchMetrics metrics = new BatchMetrics();
        net.setListeners(metrics);
        LabeledImages validation = data.validationImages();
        for (int epoch = history.firstEpoch(); epoch <= config.epochs(); epoch++) {
            history.startEpoch();
            long epochSeed = config.epochSeed(epoch);
            Nd4j.getRandom().setSeed(epochSeed);
            Nd4jBatches train =
                    data.batches(
                            data.trainImages(epoch), config.batchSize(), new Random(epochSeed));
            double[] trained = trainEpoch(net, metrics, train, dropBlock, epoch, history);
            double seconds = history.epochSeconds();
            double[] val =
                    validation == null
                            ? new double[] {Double.NaN, Double.NaN}
                            : evaluate(net, data.batches(validation, config.batchSize(), null));
            boolean testNow = epoch % config.testEvery() == 0 || epoch == config.epochs();
            double[] tested =
                    testNow
                            ? evaluate(
                                    net, data.batches(data.testImages(), config.batchSize(), null))
                            : new double[] {Double.NaN, Double.NaN};
            int stepsDone = net.getIterationCount();
            history.endEpoch(
                    new EpochMetrics(
                            epoch,
                            stepsDone,
                            trained[0],
                            trained[1],
                            tested[0],
                            tested[1],
                            val[0],
                            val[1],
                            dropProbAt(dropBlock, stepsDone),
                            learningRate.valueAt(stepsDone, 0),
                            seconds,
                            data.trainSize() / seconds,
                            ResidentMemory.megabytes()));
            history.checkpoint(writeModel, console.stop());
        }
        return history.finish(writeModel, "DL4J", data.trainSize());
    }

    /**
     * Returns the keep probability of every step: linear from 1 at step 0 to {@code 1 - dropProb}
     * at step {@code rampSteps} and then constant, or that target throughout for a constant
     * schedule.
     *
     * @param config the settings
     * @param rampSteps the steps of the linear ramp, at least 1
     * @return the schedule, keyed on the step
     */
    public static ISchedule keepProbSchedule(TrainConfig config, int rampSteps) {
        double target = 1.0 - config.dropProb();
        return config.schedule() == TrainConfig.Schedule.LINEAR
                ? KeepProbSchedule.linear(target, rampSteps)
                : new FixedSchedule(target);
    }

    /**
     * Builds the DL4J ResNet a config describes, the network of {@code train --framework dl4j} and
     * {@code spark-train}: SGD with Nesterov momentum 0.9 and the config's weight decay, the
     * configured regularizer in the configured places.
     *
     * @param config the settings
     * @param image (channels, height, width)
     * @param classes the number of classes
     * @param keepProb the keep probability's schedule ({@link #keepProbSchedule})
     * @param learningRate the learning rate's schedule
     * @return the network's configuration
     */
    public static ComputationGraphConfiguration network(
            TrainConfig config,
            Shape image,
            int classes,
            ISchedule keepProb,
            ISchedule learningRate) {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(config.depth())
                        .setOutSize(classes)
                        .setImageShape((int) image.get(0), (int) image.get(1), (int) image.get(2))
                        .optBlockSize(config.regularizer().blockSize(config.blockSize()))
                        .optKeepProbSchedule(keepProb)
                        .optDropBlockOnShortcut(config.shortcut())
                        .optUpdater(new Nesterovs(learningRate, MOMENTUM))
                        .optWeightDecay(config.weightDecay())
                        .optSeed(config.seed());
        if (config.regularizer() == Regularizer.NONE) {
            builder.optDropBlockStages();
        } else if (config.stages() != null) {
            builder.optDropBlockStages(
                    config.stages().stream().mapToInt(Integer::intValue).toArray());
        }
        return builder.build();
    }

    private static ComputationGraph restore(RunDirectory dir) {
        Path file = dir.partial().resolve(RunDirectory.CHECKPOINT).resolve(MODEL_FILE);
        try {
            return ModelSerializer.restoreComputationGraph(file.toFile(), true);
        } catch (IOException | RuntimeException e) {
            // A missing, truncated or corrupt zip fails in DL4J's reader with any of these.
            throw new BadInputException(
                    "--resume: cannot load the checkpoint's model " + file + ": " + e, e);
        }
    }

    /** The first DropBlock of the network, whose schedule the metrics report; null without one. */
    private static DropBlock firstDropBlock(ComputationGraphConfiguration conf) {
        for (GraphVertex vertex : conf.getVertices().values()) {
            if (vertex instanceof LayerVertex) {
                Layer layer = ((LayerVertex) vertex).getLayerConf().getLayer();
                if (layer.getIDropout() instanceof DropBlock) {
                    return (DropBlock) layer.getIDropout();
                }
            }
        }
        return null;
    }

    private static double dropProbAt(DropBlock dropBlock, int step) {
        return dropBlock == null ? 0 : 1 - dropBlock.keepProbAt(step, 0);
    }

    /** Returns {mean loss, accuracy} over the epoch's training batches. */
    private double[] trainEpoch(
            ComputationGraph net,
            BatchMetrics metrics,
            Nd4jBatches train,
            DropBlock dropBlock,
            int epoch,
            TrainingHistory history) {
        metrics.reset();
        int batches = train.size();
        for (int index = 0; index < batches; index++) {
            DataSet batch = train.get(index);
            metrics.expect(batch.getLabels());
            net.fit(batch);
            DivergenceCheck.requireFinite(
                    metrics.lastLoss, epoch, net.getIterationCount(), config.lr());
            double elapsed = history.epochSeconds();
            console.progress()
                    .update(
                            epoch,
                            config.epochs(),
                            index + 1,
                            batches,
                            metrics.lossSum / metrics.seen,
                            metrics.seen / elapsed,
                            dropProbAt(dropBlock, net.getIterationCount()));
        }
        console.progress().finish();
        return new double[] {
            metrics.lossSum / metrics.seen, (double) metrics.correct / metrics.seen
        };
    }

    /** Returns {mean loss, accuracy} over a held-out set, in evaluation mode. */
    private static double[] evaluate(ComputationGraph net, Nd4jBatches set) {
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        for (int index = 0; index < set.size(); index++) {
            DataSet batch = set.get(index);
            INDArray probabilities = net.outputSingle(false, batch.getFeatures());
            lossSum += crossEntropySum(probabilities, batch.getLabels());
            correct += countCorrect(probabilities, batch.getLabels());
            seen += batch.numExamples();
        }
        return new double[] {lossSum / seen, (double) correct / seen};
    }

    /** The summed cross-entropy of softmax outputs against one-hot labels. */
    private static double crossEntropySum(INDArray probabilities, INDArray labels) {
        INDArray picked = probabilities.castTo(DataType.DOUBLE).mul(labels.castTo(DataType.DOUBLE));
        INDArray perExample = picked.sum(1);
        return -Transforms.log(Transforms.max(perExample, MIN_PROBABILITY, false), false)
                .sumNumber()
                .doubleValue();
    }

    private static long countCorrect(INDArray probabilities, INDArray labels) {
        INDArray predicted = probabilities.argMax(1);
        INDArray actual = labels.argMax(1);
        return predicted.eq(actual).castTo(DataType.INT).sumNumber().longValue();
    }

    /**
     * Reads the loss and accuracy of every training batch from the training forward, whose
     * activations DL4J hands to its listeners before the backward. The map holds every vertex but
     * the output layer, so the softmax is applied here to the output layer's input with its
     * parameters, which the backward has not changed yet.
     */
    private static final class BatchMetrics extends BaseTrainingListener {
        private INDArray labels;
        double lossSum;
        long correct;
        long seen;
        double lastLoss;

        void reset() {
            lossSum = 0;
            correct = 0;
            seen = 0;
        }

        void expect(INDArray batchLabels) {
            labels = batchLabels;
        }

        @Override
        public void onForwardPass(Model model, Map<String, INDArray> activations) {
            ComputationGraph net = (ComputationGraph) model;
            String head = net.getConfiguration().getVertexInputs().get(OUTPUT).get(0);
            INDArray logits =
                    activations
                            .get(head)
                            .mmul(net.getParam(OUTPUT + "_W"))
                            .addiRowVector(net.getParam(OUTPUT + "_b"));
            INDArray probabilities = Transforms.softmax(logits, false);
            double loss = crossEntropySum(probabilities, labels);
            long n = labels.size(0);
            lastLoss = loss / n;
            lossSum += loss;
            correct += countCorrect(probabilities, labels);
            seen += n;
        }
    }
}
