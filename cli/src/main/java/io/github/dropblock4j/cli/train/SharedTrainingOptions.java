package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.input.DropProbConverter;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.Iterator;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options {@code train} and {@code ablate} share: data, model, length of training, learning
 * rate, target drop probability and subset sizes. A picocli mixin, so each is declared once, and
 * the one place where parsed options become a {@link TrainConfig}.
 */
public final class SharedTrainingOptions {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description =
                    "Data: 'embedded' (the default, a Fashion-MNIST subset shipped inside),"
                            + " 'fashion-mnist' (Debian's dataset-fashion-mnist), or a directory of IDX"
                            + " or CIFAR-10 binary files.")
    private String data = "embedded";

    @Option(
            names = "--model",
            completionCandidates = ModelNames.class,
            description =
                    "The ResNet: ${COMPLETION-CANDIDATES}; depths 20 to 110 are the CIFAR family,"
                            + " the others the ImageNet family (default: ${DEFAULT-VALUE}).")
    private String model = "resnet20";

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    private int epochs = 3;

    @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).")
    private int batchSize = 64;

    @Option(
            names = "--lr",
            description =
                    "Initial learning rate of SGD, cosine-decayed to 0"
                            + " (default: ${DEFAULT-VALUE}).")
    private float lr = 0.1f;

    @Option(
            names = "--drop-prob",
            converter = DropProbConverter.class,
            description = "Target drop probability, 1 - keep_prob (default: ${DEFAULT-VALUE}).")
    private float dropProb = 0.1f;

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

    @Option(
            names = "--val-split",
            paramLabel = "N",
            description =
                    "Hold out N training images (stratified, never trained on) as a validation set,"
                            + " to choose settings without the test set (default: none).")
    private int valSplit;

    @Option(
            names = "--augment",
            description =
                    "Augment the training images with a random crop (4 pixels of zero"
                            + " padding) and a horizontal flip, drawn afresh each epoch.")
    private boolean augment;

    @Option(
            names = "--test-every",
            paramLabel = "K",
            description = "Test every K epochs and after the last one (default: ${DEFAULT-VALUE}).")
    private int testEvery = 1;

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
                        .optDropProb(dropProb)
                        .optTrainLimit(trainLimit)
                        .optTestLimit(testLimit)
                        .optValSplit(valSplit)
                        .optAugment(augment)
                        .optTestEvery(testEvery);
        try {
            return more.apply(builder).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), e.getMessage(), e);
        }
    }

    /**
     * Tells whether an option was given on the command line.
     *
     * @param name the option's name, e.g. {@code --val-split}
     * @return true if it was given
     */
    public boolean given(String name) {
        return mixee.commandLine().getParseResult().hasMatchedOption(name);
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
