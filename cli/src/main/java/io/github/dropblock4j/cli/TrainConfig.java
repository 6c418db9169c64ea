package io.github.dropblock4j.cli;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.github.dropblock4j.djl.ResNetDropBlock;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The settings of one training run, as given on the command line and saved in {@code
 * summary.json} and in an interrupted run's checkpoint. A mutable bean for JSON; {@link
 * #validate()} checks every field and names the option, the rule and the value.
 */
public final class TrainConfig {

    /** Models {@code --model} accepts, by name. */
    public static final List<String> MODELS =
            List.of("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet18", "resnet34",
                    "resnet50", "resnet101", "resnet152");

    /** Frameworks {@code --framework} accepts: the one that trains the network. */
    public static final List<String> FRAMEWORKS = List.of("djl", "dl4j");

    /** How the drop probability moves over training. */
    public enum Schedule {
        /** From 0 to the target linearly over the whole run, as the paper recommends. */
        LINEAR,
        /** The target from the first step. */
        CONSTANT
    }

    String framework = "djl";
    String data = "embedded";
    String model = "resnet20";
    int epochs = 3;
    int batchSize = 64;
    float lr = 0.1f;
    float weightDecay = 5e-4f;
    int seed = 1;
    int blockSize = 7;
    float dropProb = 0.1f;
    Schedule schedule = Schedule.LINEAR;
    int[] stages;
    boolean shortcut = true;
    Regularizer regularizer = Regularizer.DROPBLOCK;
    int trainLimit;
    int testLimit;
    int valSplit;
    boolean augment;
    int testEvery = 1;

    /**
     * Checks every setting.
     *
     * @return this config
     * @throws IllegalArgumentException naming the first bad option and its value
     */
    public TrainConfig validate() {
        if (!FRAMEWORKS.contains(framework)) {
            throw new IllegalArgumentException(
                    "--framework must be one of " + FRAMEWORKS + ", got " + framework);
        }
        if (!MODELS.contains(model)) {
            throw new IllegalArgumentException("--model must be one of " + MODELS + ", got " + model);
        }
        require(epochs >= 1 && epochs <= 10_000, "--epochs must be in [1, 10000], got " + epochs);
        require(batchSize >= 1 && batchSize <= 4096, "--batch-size must be in [1, 4096], got " + batchSize);
        require(lr > 0 && lr <= 10 && !Float.isNaN(lr), "--lr must be in (0, 10], got " + lr);
        require(weightDecay >= 0 && weightDecay < 1, "--weight-decay must be in [0, 1), got " + weightDecay);
        require(blockSize >= 1, "--block-size must be >= 1, got " + blockSize);
        require(dropProb >= 0 && dropProb < 1, "--drop-prob must be in [0, 1), got " + dropProb);
        require(trainLimit >= 0, "--train-limit must be >= 0 (0: no limit), got " + trainLimit);
        require(testLimit >= 0, "--test-limit must be >= 0 (0: no limit), got " + testLimit);
        require(valSplit >= 0, "--val-split must be >= 0 (0: no validation set), got " + valSplit);
        require(testEvery >= 1, "--test-every must be >= 1, got " + testEvery);
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(regularizer, "regularizer");
        int numStages = numStages();
        if (stages != null) {
            for (int s : stages) {
                require(s >= 1 && s <= numStages, "--stages must be in [1, " + numStages + "] for " + model
                        + ", got " + Arrays.toString(stages));
            }
        }
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Returns the ResNet depth named by the model.
     *
     * @return e.g. 20 for resnet20
     */
    public int depth() {
        return Integer.parseInt(model.substring("resnet".length()));
    }

    /**
     * Returns the number of stages of the model: 3 for the CIFAR family, 4 for the ImageNet one.
     *
     * @return the number of stages
     */
    public int numStages() {
        return List.of(20, 32, 44, 56, 110).contains(depth()) ? 3 : 4;
    }

    /**
     * Builds the network this config describes.
     *
     * @param imageShape (channels, height, width)
     * @param classes the number of classes
     * @return the ResNet with the configured regularizer in the configured places
     */
    public Block buildNetwork(Shape imageShape, int classes) {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(depth())
                        .setOutSize(classes)
                        .setImageShape(imageShape)
                        .optBlockSize(regularizer.blockSize(blockSize))
                        .optDropProb(schedule == Schedule.LINEAR ? 0f : dropProb)
                        .optDropBlockOnShortcut(shortcut);
        if (regularizer == Regularizer.NONE) {
            builder.optDropBlockStages();
        } else if (stages != null) {
            builder.optDropBlockStages(stages);
        }
        return builder.build();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "model=" + model + " data=" + data + " epochs=" + epochs + " batch=" + batchSize + " lr=" + lr
                + " regularizer=" + regularizer.optionValue() + " block=" + blockSize + " drop=" + dropProb
                + " schedule=" + schedule.name().toLowerCase(java.util.Locale.ROOT)
                + " stages=" + (stages == null ? "last-two" : Arrays.toString(stages))
                + " shortcut=" + shortcut + " seed=" + seed
                + (trainLimit > 0 ? " train-limit=" + trainLimit : "")
                + (testLimit > 0 ? " test-limit=" + testLimit : "")
                + (valSplit > 0 ? " val-split=" + valSplit : "")
                + (augment ? " augment" : "")
                + (testEvery > 1 ? " test-every=" + testEvery : "")
                + ("djl".equals(framework) ? "" : " framework=" + framework);
    }

    /**
     * Returns a copy that can be changed without touching this one.
     *
     * @return the copy
     */
    public TrainConfig copy() {
        TrainConfig c = new TrainConfig();
        c.framework = framework;
        c.data = data;
        c.model = model;
        c.epochs = epochs;
        c.batchSize = batchSize;
        c.lr = lr;
        c.weightDecay = weightDecay;
        c.seed = seed;
        c.blockSize = blockSize;
        c.dropProb = dropProb;
        c.schedule = schedule;
        c.stages = stages == null ? null : stages.clone();
        c.shortcut = shortcut;
        c.regularizer = regularizer;
        c.trainLimit = trainLimit;
        c.testLimit = testLimit;
        c.valSplit = valSplit;
        c.augment = augment;
        c.testEvery = testEvery;
        return c;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TrainConfig)) {
            return false;
        }
        TrainConfig c = (TrainConfig) o;
        return Objects.equals(framework, c.framework)
                && Objects.equals(data, c.data)
                && Objects.equals(model, c.model)
                && epochs == c.epochs
                && batchSize == c.batchSize
                && Float.compare(lr, c.lr) == 0
                && Float.compare(weightDecay, c.weightDecay) == 0
                && seed == c.seed
                && blockSize == c.blockSize
                && Float.compare(dropProb, c.dropProb) == 0
                && schedule == c.schedule
                && Arrays.equals(stages, c.stages)
                && shortcut == c.shortcut
                && regularizer == c.regularizer
                && trainLimit == c.trainLimit
                && testLimit == c.testLimit
                && valSplit == c.valSplit
                && augment == c.augment
                && testEvery == c.testEvery;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return 31 * Objects.hash(framework, data, model, epochs, batchSize, lr, weightDecay, seed, blockSize, dropProb,
                schedule, shortcut, regularizer, trainLimit, testLimit, valSplit, augment, testEvery) + Arrays.hashCode(stages);
    }
}
