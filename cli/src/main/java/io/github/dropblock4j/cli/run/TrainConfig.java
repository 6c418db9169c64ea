package io.github.dropblock4j.cli.run;

import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The settings of one training run, as given on the command line and saved in {@code config.json},
 * {@code summary.json} and an interrupted run's checkpoint. Immutable and valid by construction:
 * the constructor checks every setting and names the option, the rule and the value. Built with
 * {@link #builder()}, whose defaults are the command line's.
 *
 * @param data the {@code --data} value: {@code embedded}, {@code fashion-mnist} or a directory
 * @param model the ResNet, {@code resnet<depth>} for a depth of {@link ResNetLayout#DEPTHS}
 * @param epochs the number of epochs
 * @param batchSize the batch size
 * @param lr the initial learning rate of SGD
 * @param weightDecay SGD's weight decay
 * @param seed fixes the data subsets, initial weights, data order, augmentation and masks
 * @param blockSize the DropBlock block size of every stage, unless one of the next two is given
 * @param blockSizePerStage one DropBlock block size per DropBlock stage, in the order of {@code
 *     stages} (ascending for the default); null for {@code blockSize} in every stage
 * @param blockFraction the DropBlock block as a fraction of each feature map's height and width,
 *     one for every DropBlock stage or one per stage; null for block sizes in units
 * @param dropProb the target drop probability, 1 - keep_prob
 * @param schedule how the drop probability moves over training
 * @param stages the 1-based stages that get the regularizer; null for the last two
 * @param shortcut whether the regularizer also goes on the shortcuts
 * @param regularizer the regularizer
 * @param trainLimit the size of the stratified training subset; 0 for all images
 * @param testLimit the size of the stratified test subset; 0 for all images
 * @param valSplit the training images held out as a validation set; 0 for none
 * @param augment whether the training images are augmented
 * @param testEvery test every this many epochs and after the last
 * @param framework the framework that trains
 * @param recalibrateBn whether the batch norms are re-estimated after training with the regularizer
 *     off, the held-out sets measured before and after
 */
public record TrainConfig(
        String data,
        String model,
        int epochs,
        int batchSize,
        float lr,
        float weightDecay,
        int seed,
        int blockSize,
        List<Integer> blockSizePerStage,
        List<Double> blockFraction,
        float dropProb,
        Schedule schedule,
        List<Integer> stages,
        boolean shortcut,
        Regularizer regularizer,
        int trainLimit,
        int testLimit,
        int valSplit,
        boolean augment,
        int testEvery,
        Framework framework,
        boolean recalibrateBn) {

    private static final String RESNET = "resnet";

    /**
     * Models {@code --model} accepts: {@code resnet<depth>} for every depth of {@link
     * ResNetLayout#DEPTHS}, which both frameworks build.
     */
    public static final List<String> MODELS =
            ResNetLayout.DEPTHS.stream().map(depth -> RESNET + depth).toList();

    /** How the drop probability moves over training. */
    public enum Schedule {
        /** From 0 to the target linearly over the whole run, as the paper recommends. */
        LINEAR,
        /** The target from the first step. */
        CONSTANT
    }

    /**
     * Checks a run's settings, each against the rule of the option that sets it, and copies the
     * lists.
     *
     * @throws NullPointerException if data, model, schedule, regularizer or framework is null
     * @throws IllegalArgumentException if a setting breaks its option's rule (the message names the
     *     option, the rule and the value), e.g. an unknown model, epochs outside [1, 10000], a drop
     *     probability outside [0, 1), stages the model does not have, block sizes and fractions
     *     together or one per stage for another number of stages
     */
    public TrainConfig {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(regularizer, "regularizer");
        Objects.requireNonNull(framework, "framework");
        require(MODELS.contains(model), "--model must be one of " + MODELS + ", got " + model);
        require(epochs >= 1 && epochs <= 10_000, "--epochs must be in [1, 10000], got " + epochs);
        require(
                batchSize >= 1 && batchSize <= 4096,
                "--batch-size must be in [1, 4096], got " + batchSize);
        require(lr > 0 && lr <= 10, "--lr must be in (0, 10], got " + lr);
        require(
                weightDecay >= 0 && weightDecay < 1,
                "--weight-decay must be in [0, 1), got " + weightDecay);
        require(blockSize >= 1, "--block-size must be >= 1, got " + blockSize);
        try {
            DropBlockGamma.checkDropProb(dropProb);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--drop-prob must be in [0, 1), got " + dropProb, e);
        }
        require(trainLimit >= 0, "--train-limit must be >= 0 (0: no limit), got " + trainLimit);
        require(testLimit >= 0, "--test-limit must be >= 0 (0: no limit), got " + testLimit);
        require(valSplit >= 0, "--val-split must be >= 0 (0: no validation set), got " + valSplit);
        require(testEvery >= 1, "--test-every must be >= 1, got " + testEvery);
        if (stages != null) {
            stages = List.copyOf(stages);
            int numStages = ResNetLayout.of(depth(model)).numStages();
            require(
                    !stages.isEmpty() && stages.stream().allMatch(s -> s >= 1 && s <= numStages),
                    "--stages must be in [1, " + numStages + "] for " + model + ", got " + stages);
        }
        require(
                blockSizePerStage == null || blockFraction == null,
                "--block-size takes sizes or fractions, not both, got "
                        + blockSizePerStage
                        + " and "
                        + blockFraction);
        if (blockSizePerStage != null) {
            blockSizePerStage = List.copyOf(blockSizePerStage);
            require(
                    blockSizePerStage.stream().allMatch(b -> b >= 1),
                    "--block-size must be >= 1, got " + joined(blockSizePerStage));
        }
        if (blockFraction != null) {
            blockFraction = List.copyOf(blockFraction);
            require(
                    blockFraction.stream().allMatch(f -> f > 0 && f <= 1),
                    "--block-size fractions must be in (0, 1], got " + joined(blockFraction));
        }
        List<?> perStage = blockSizePerStage != null ? blockSizePerStage : blockFraction;
        if (perStage != null) {
            int dropBlockStages =
                    stages == null
                            ? ResNetLayout.of(depth(model)).dropBlockStages(null).length
                            : stages.size();
            require(
                    perStage.size() == 1 || perStage.size() == dropBlockStages,
                    "--block-size must have 1 value or one per stage of --stages ("
                            + dropBlockStages
                            + (stages == null ? ", the last two" : " for " + joined(stages))
                            + "), got "
                            + joined(perStage));
        }
    }

    private static String joined(List<?> values) {
        return values.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static int depth(String model) {
        return Integer.parseInt(model.substring(RESNET.length()));
    }

    /**
     * Returns a builder with the command line's defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder holding these settings, to build a config that differs in a few.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Returns the seed of one epoch, from which every run reseeds its generators at the epoch's
     * start: the epoch's data order (and masks, where the engine draws them) then do not depend on
     * what came before, so a run resumed at an epoch's end continues exactly.
     *
     * @param epoch the epoch, 1-based
     * @return {@code seed * 10007 + epoch}
     */
    public long epochSeed(int epoch) {
        return seed * 10_007L + epoch;
    }

    /**
     * Returns the ResNet depth named by the model.
     *
     * @return e.g. 20 for resnet20
     */
    public int depth() {
        return depth(model);
    }

    /**
     * Returns the block sizes the network's DropBlocks get, for a ResNet builder's {@code
     * optBlockSizePerStage}: 1 for dropout, a block larger than every map for spatial dropout, and
     * the configured sizes for DropBlock, unless it is given as a fraction.
     *
     * @return one size for every DropBlock stage or one per stage; null when {@link
     *     #blockFractionsApplied()} gives the block
     */
    public int[] blockSizesApplied() {
        if (regularizer == Regularizer.DROPBLOCK) {
            if (blockFraction != null) {
                return null;
            }
            if (blockSizePerStage != null) {
                return blockSizePerStage.stream().mapToInt(Integer::intValue).toArray();
            }
        }
        return new int[] {regularizer.blockSize(blockSize)};
    }

    /**
     * Returns the block fractions the network's DropBlocks get, for a ResNet builder's {@code
     * optBlockFractionPerStage}.
     *
     * @return one fraction for every DropBlock stage or one per stage; null unless the regularizer
     *     is DropBlock and its block is given as a fraction
     */
    public double[] blockFractionsApplied() {
        return regularizer == Regularizer.DROPBLOCK && blockFraction != null
                ? blockFraction.stream().mapToDouble(Double::doubleValue).toArray()
                : null;
    }

    /**
     * Returns the block as {@code --block-size} spells it: one size, sizes or fractions.
     *
     * @return e.g. {@code 7}, {@code 5,3} or {@code 0.36}
     */
    public String blockSizeOption() {
        return blockSizePerStage != null
                ? joined(blockSizePerStage)
                : blockFraction != null ? joined(blockFraction) : Integer.toString(blockSize);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "model="
                + model
                + " data="
                + data
                + " epochs="
                + epochs
                + " batch="
                + batchSize
                + " lr="
                + lr
                + " regularizer="
                + regularizer.optionValue()
                + " block="
                + blockSizeOption()
                + " drop="
                + dropProb
                + " schedule="
                + schedule.name().toLowerCase(Locale.ROOT)
                + " stages="
                + (stages == null ? "last-two" : stages)
                + " shortcut="
                + shortcut
                + " seed="
                + seed
                + (trainLimit > 0 ? " train-limit=" + trainLimit : "")
                + (testLimit > 0 ? " test-limit=" + testLimit : "")
                + (valSplit > 0 ? " val-split=" + valSplit : "")
                + (augment ? " augment" : "")
                + (testEvery > 1 ? " test-every=" + testEvery : "")
                + (framework == Framework.DJL ? "" : " framework=" + framework.optionValue())
                + (recalibrateBn ? " recalibrate-bn" : "");
    }

    /** Builds a {@link TrainConfig}; every setting is optional. Not thread safe. */
    public static final class Builder {

        private String data = "embedded";
        private String model = "resnet20";
        private int epochs = 3;
        private int batchSize = 64;
        private float lr = 0.1f;
        private float weightDecay = 5e-4f;
        private int seed = 1;
        private int blockSize = 7;
        private List<Integer> blockSizePerStage;
        private List<Double> blockFraction;
        private float dropProb = 0.1f;
        private Schedule schedule = Schedule.LINEAR;
        private List<Integer> stages;
        private boolean shortcut = true;
        private Regularizer regularizer = Regularizer.DROPBLOCK;
        private int trainLimit;
        private int testLimit;
        private int valSplit;
        private boolean augment;
        private int testEvery = 1;
        private Framework framework = Framework.DJL;
        private boolean recalibrateBn;

        private Builder() {}

        private Builder(TrainConfig c) {
            data = c.data;
            model = c.model;
            epochs = c.epochs;
            batchSize = c.batchSize;
            lr = c.lr;
            weightDecay = c.weightDecay;
            seed = c.seed;
            blockSize = c.blockSize;
            blockSizePerStage = c.blockSizePerStage;
            blockFraction = c.blockFraction;
            dropProb = c.dropProb;
            schedule = c.schedule;
            stages = c.stages;
            shortcut = c.shortcut;
            regularizer = c.regularizer;
            trainLimit = c.trainLimit;
            testLimit = c.testLimit;
            valSplit = c.valSplit;
            augment = c.augment;
            testEvery = c.testEvery;
            framework = c.framework;
            recalibrateBn = c.recalibrateBn;
        }

        /**
         * Sets the data. Defaults to {@code embedded}.
         *
         * @param data {@code embedded}, {@code fashion-mnist} or a directory
         * @return this builder
         */
        public Builder optData(String data) {
            this.data = data;
            return this;
        }

        /**
         * Sets the model. Defaults to {@code resnet20}.
         *
         * @param model one of {@link #MODELS}
         * @return this builder
         */
        public Builder optModel(String model) {
            this.model = model;
            return this;
        }

        /**
         * Sets the number of epochs. Defaults to 3.
         *
         * @param epochs in [1, 10000]
         * @return this builder
         */
        public Builder optEpochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /**
         * Sets the batch size. Defaults to 64.
         *
         * @param batchSize in [1, 4096]
         * @return this builder
         */
        public Builder optBatchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Sets the initial learning rate. Defaults to 0.1.
         *
         * @param lr in (0, 10]
         * @return this builder
         */
        public Builder optLr(float lr) {
            this.lr = lr;
            return this;
        }

        /**
         * Sets the weight decay. Defaults to 5e-4.
         *
         * @param weightDecay in [0, 1)
         * @return this builder
         */
        public Builder optWeightDecay(float weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * Sets the seed. Defaults to 1.
         *
         * @param seed any integer
         * @return this builder
         */
        public Builder optSeed(int seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets the block size of every stage, in place of per-stage sizes or fractions set before.
         * Defaults to 7, the paper's best.
         *
         * @param blockSize at least 1
         * @return this builder
         */
        public Builder optBlockSize(int blockSize) {
            this.blockSize = blockSize;
            this.blockSizePerStage = null;
            this.blockFraction = null;
            return this;
        }

        /**
         * Sets one block size per DropBlock stage, in the order of the stages, in place of
         * fractions set before. Defaults to null, the block size of every stage.
         *
         * @param blockSizePerStage one size per DropBlock stage, or one for all, each at least 1;
         *     null for the block size of every stage
         * @return this builder
         */
        public Builder optBlockSizePerStage(List<Integer> blockSizePerStage) {
            this.blockSizePerStage = blockSizePerStage;
            this.blockFraction = null;
            return this;
        }

        /**
         * Sets the block as a fraction of each feature map's height and width, in place of
         * per-stage sizes set before. Defaults to null, block sizes in units.
         *
         * @param blockFraction one fraction for every DropBlock stage or one per stage, each in (0,
         *     1]; null for block sizes in units
         * @return this builder
         */
        public Builder optBlockFraction(List<Double> blockFraction) {
            this.blockFraction = blockFraction;
            this.blockSizePerStage = null;
            return this;
        }

        /**
         * Sets the target drop probability. Defaults to 0.1.
         *
         * @param dropProb in [0, 1)
         * @return this builder
         */
        public Builder optDropProb(float dropProb) {
            this.dropProb = dropProb;
            return this;
        }

        /**
         * Sets the schedule of the drop probability. Defaults to {@link Schedule#LINEAR}.
         *
         * @param schedule the schedule
         * @return this builder
         */
        public Builder optSchedule(Schedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /**
         * Sets the stages that get the regularizer. Defaults to null, the last two.
         *
         * @param stages 1-based stage numbers of the model, or null for the last two
         * @return this builder
         */
        public Builder optStages(List<Integer> stages) {
            this.stages = stages;
            return this;
        }

        /**
         * Sets whether the shortcuts get the regularizer too. Defaults to true.
         *
         * @param shortcut true for the shortcuts as well as the residual branches
         * @return this builder
         */
        public Builder optShortcut(boolean shortcut) {
            this.shortcut = shortcut;
            return this;
        }

        /**
         * Sets the regularizer. Defaults to {@link Regularizer#DROPBLOCK}.
         *
         * @param regularizer the regularizer
         * @return this builder
         */
        public Builder optRegularizer(Regularizer regularizer) {
            this.regularizer = regularizer;
            return this;
        }

        /**
         * Sets the size of the training subset. Defaults to 0, all images.
         *
         * @param trainLimit at least 0
         * @return this builder
         */
        public Builder optTrainLimit(int trainLimit) {
            this.trainLimit = trainLimit;
            return this;
        }

        /**
         * Sets the size of the test subset. Defaults to 0, all images.
         *
         * @param testLimit at least 0
         * @return this builder
         */
        public Builder optTestLimit(int testLimit) {
            this.testLimit = testLimit;
            return this;
        }

        /**
         * Sets the size of the validation split. Defaults to 0, none.
         *
         * @param valSplit at least 0
         * @return this builder
         */
        public Builder optValSplit(int valSplit) {
            this.valSplit = valSplit;
            return this;
        }

        /**
         * Sets whether the training images are augmented. Defaults to false.
         *
         * @param augment true for random crops and flips
         * @return this builder
         */
        public Builder optAugment(boolean augment) {
            this.augment = augment;
            return this;
        }

        /**
         * Sets how often the test set is evaluated. Defaults to 1, every epoch.
         *
         * @param testEvery at least 1
         * @return this builder
         */
        public Builder optTestEvery(int testEvery) {
            this.testEvery = testEvery;
            return this;
        }

        /**
         * Sets the framework that trains. Defaults to {@link Framework#DJL}.
         *
         * @param framework the framework
         * @return this builder
         */
        public Builder optFramework(Framework framework) {
            this.framework = framework;
            return this;
        }

        /**
         * Sets whether the batch norms are re-estimated after training, with the regularizer off.
         * Defaults to false.
         *
         * @param recalibrateBn true to recalibrate and measure the held-out sets again
         * @return this builder
         */
        public Builder optRecalibrateBn(boolean recalibrateBn) {
            this.recalibrateBn = recalibrateBn;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException naming the first bad option, its rule and its value
         */
        public TrainConfig build() {
            return new TrainConfig(
                    data,
                    model,
                    epochs,
                    batchSize,
                    lr,
                    weightDecay,
                    seed,
                    blockSize,
                    blockSizePerStage,
                    blockFraction,
                    dropProb,
                    schedule,
                    stages,
                    shortcut,
                    regularizer,
                    trainLimit,
                    testLimit,
                    valSplit,
                    augment,
                    testEvery,
                    framework,
                    recalibrateBn);
        }
    }
}
