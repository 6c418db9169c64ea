package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.Iterator;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options of every training command ({@code train}, {@code ablate}, {@code spark-train}): the
 * data, the model, the length of training and the optimizer. A picocli mixin, so each is declared
 * once, and the one place where parsed options become a {@link TrainConfig}; the command adds its
 * own settings and those of its other mixins ({@link EpochOptions}, {@link RegularizerOptions}).
 */
public final class TrainingOptions {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description =
                    "Data: 'embedded' (the default, a Fashion-MNIST subset shipped inside),"
                            + " 'fashion-mnist' (Debian's dataset-fashion-mnist), or a directory of IDX"
                            + " or CIFAR-10 binary files.")
    private String data = DataSource.EMBEDDED;

    @Option(
            names = "--model",
            completionCandidates = ModelNames.class,
            description =
                    "The ResNet: ${COMPLETION-CANDIDATES}; depths 20 to 110 are the CIFAR family,"
                            + " the others the ImageNet family (default: ${DEFAULT-VALUE}).")
    private String model = "resnet20";

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    private int epochs = 3;

    @Option(
            names = "--batch-size",
            description = "Batch size, of each worker on Spark (default: ${DEFAULT-VALUE}).")
    private int batchSize = 64;

    @Option(
            names = "--lr",
            description =
                    "Initial learning rate of SGD, cosine-decayed to 0"
                            + " (default: ${DEFAULT-VALUE}).")
    private float lr = 0.1f;

    @Option(names = "--weight-decay", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    private float weightDecay = 5e-4f;

    @Option(
            names = "--train-limit",
            paramLabel = "N",
            description = "Train on a stratified subset of N images (default: all).")
    private int trainLimit;

    @Option(
            names = "--test-limit",
            paramLabel = "N",
            description = "Test on a stratified subset of N images (default: all).")
    private int testLimit;

    /**
     * Builds the config of the parsed options, with the command's own settings.
     *
     * @param more sets what the command adds or overrides on the builder
     * @return the config
     * @throws ParameterException naming the option, its rule and its value if one is bad
     */
    public TrainConfig toConfig(UnaryOperator<TrainConfig.Builder> more) {
        TrainConfig.Builder builder =
                TrainConfig.builder()
                        .optData(data)
                        .optModel(model)
                        .optEpochs(epochs)
                        .optBatchSize(batchSize)
                        .optLr(lr)
                        .optWeightDecay(weightDecay)
                        .optTrainLimit(trainLimit)
                        .optTestLimit(testLimit);
        try {
            return more.apply(builder).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), e.getMessage(), e);
        }
    }

    /** The values {@code --model} accepts, for its help. */
    static final class ModelNames implements Iterable<String> {

        /** {@inheritDoc} */
        @Override
        public Iterator<String> iterator() {
            return TrainConfig.MODELS.iterator();
        }
    }
}
