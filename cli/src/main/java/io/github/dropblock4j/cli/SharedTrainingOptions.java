package io.github.dropblock4j.cli;

import picocli.CommandLine.Option;

/**
 * The options {@code train} and {@code ablate} share: data, model, length of training, learning
 * rate, target drop probability and subset sizes. A picocli mixin, so each is declared once.
 */
final class SharedTrainingOptions {

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data: 'embedded' (default, a Fashion-MNIST subset shipped inside), 'fashion-mnist'"
                    + " (Debian's dataset-fashion-mnist), or a directory of IDX or CIFAR-10 binary files.")
    String data = "embedded";

    @Option(names = "--model", description = "resnet20|resnet32|resnet44|resnet56|resnet110 (CIFAR family) or"
            + " resnet18|resnet34|resnet50|resnet101|resnet152 (default: ${DEFAULT-VALUE}).")
    String model = "resnet20";

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs = 3;

    @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = 64;

    @Option(names = "--lr", description = "Initial learning rate of SGD, cosine-decayed to 0 (default: ${DEFAULT-VALUE}).")
    float lr = 0.1f;

    @Option(names = "--drop-prob", description = "Target drop probability, 1 - keep_prob (default: ${DEFAULT-VALUE}).")
    float dropProb = 0.1f;

    @Option(names = "--train-limit", paramLabel = "N",
            description = "Train on a stratified subset of N images (default: all).")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N",
            description = "Test on a stratified subset of N images (default: all).")
    int testLimit;

    @Option(names = "--val-split", paramLabel = "N",
            description = "Hold out N training images (stratified, never trained on) as a validation set,"
                    + " to choose settings without the test set (default: none).")
    int valSplit;

    @Option(names = "--augment", description = "Augment the training images: random crop with 4 pixels of zero"
            + " padding and horizontal flip, drawn afresh each epoch.")
    boolean augment;

    @Option(names = "--test-every", paramLabel = "K",
            description = "Test every K epochs and after the last one (default: ${DEFAULT-VALUE}).")
    int testEvery = 1;

    /**
     * Copies these options into a config.
     *
     * @param config the config to fill
     * @return the same config
     */
    TrainConfig applyTo(TrainConfig config) {
        config.data = data;
        config.model = model;
        config.epochs = epochs;
        config.batchSize = batchSize;
        config.lr = lr;
        config.dropProb = dropProb;
        config.trainLimit = trainLimit;
        config.testLimit = testLimit;
        config.valSplit = valSplit;
        config.augment = augment;
        config.testEvery = testEvery;
        return config;
    }
}
