package io.github.dropblock4j.dl4j;

import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Residual networks (He et al., arXiv 1512.03385) for Deeplearning4j with DropBlock where the
 * DropBlock paper (Ghiasi, Lin and Le, arXiv 1810.12890) found it works best: after every batch
 * norm of the residual branch in the last stages (groups 3 and 4 of ResNet-50), and on the shortcut
 * as well. The DL4J twin of the DJL module's builder of the same name, with the same options and
 * defaults; it builds a {@link ComputationGraphConfiguration}.
 *
 * <p>The depth picks the {@link ResNetLayout}: the ImageNet family (18, 34, 50, 101, 152) or the
 * CIFAR family (20, 32, 44, 56, 110), with their stages, filters, stem and shortcuts. Activations
 * are NCHW.
 *
 * <p>Placement, as in the TF reference implementation of the paper: in a chosen stage, a {@code
 * DropoutLayer} holding a {@link DropBlock} follows each batch norm of the residual branch (the
 * inner batch norms carry the ReLU, as the reference's {@code batch_norm_relu} does; DropBlock's
 * mask is non-negative, so dropping before or after the ReLU is the same) and, when enabled, the
 * shortcut (after the projection's batch norm, or on the identity). A {@code DropoutLayer} because
 * DL4J ignores dropout set on a {@code BatchNormalization} ({@link DropoutPlacement}, which {@link
 * Builder#build()} runs on the result). A block size is clipped to each stage's feature map; a
 * block fraction is resolved by every DropBlock against the map it sees.
 *
 * <p>The last batch norm of every residual branch starts with gamma = 0 (DL4J's {@code
 * BatchNormalization.Builder.gamma(0)}, which sets the initial value of the learned gamma), so each
 * residual unit starts as its shortcut, as in the TF reference: without it, DropBlock's rescaled
 * blocks on both branches add up through the identity paths and make the first steps of SGD with
 * momentum diverge.
 */
public final class ResNetDropBlock {

    private ResNetDropBlock() {}

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The builder of a ResNet with DropBlock; names follow DJL's {@code ResNetV1}. */
    public static final class Builder {

        private int numLayers = -1;
        private int outSize = -1;
        private int[] imageShape;
        private double batchNormMomentum = 0.9;
        private int[] dropBlockStages;
        private boolean dropBlockOnShortcut = true;
        private int[] blockSize;
        private double[] blockFraction;
        private double keepProb = 0.9;
        private ISchedule keepProbSchedule;
        private boolean stageScaling;
        private IUpdater updater = new Nesterovs(0.1, 0.9);
        private double weightDecay = 1e-4;
        private Long seed;

        Builder() {}

        /**
         * Sets the depth: 18, 34, 50, 101 or 152 (ImageNet family), or 20, 32, 44, 56 or 110 (CIFAR
         * family). Required.
         *
         * @param numLayers the depth
         * @return this builder
         */
        public Builder setNumLayers(int numLayers) {
            this.numLayers = numLayers;
            return this;
        }

        /**
         * Sets the number of classes. Required.
         *
         * @param outSize the size of the output layer, at least 1
         * @return this builder
         */
        public Builder setOutSize(int outSize) {
            this.outSize = outSize;
            return this;
        }

        /**
         * Sets the shape of one input image. Required.
         *
         * @param channels the number of channels, at least 1
         * @param height the height in pixels, at least 1
         * @param width the width in pixels, at least 1
         * @return this builder
         */
        public Builder setImageShape(int channels, int height, int width) {
            this.imageShape = new int[] {channels, height, width};
            return this;
        }

        /**
         * Sets the momentum of every batch norm's running statistics, {@code running = momentum *
         * running + (1 - momentum) * batch}: DL4J's {@code BatchNormalization} decay, named as in
         * DJL's {@code ResNetV1} and this builder's DJL twin. Defaults to 0.9.
         *
         * @param batchNormMomentum the momentum, in [0, 1)
         * @return this builder
         */
        public Builder optBatchNormMomentum(double batchNormMomentum) {
            this.batchNormMomentum = batchNormMomentum;
            return this;
        }

        /**
         * Sets the stages (1-based) that get DropBlock. Defaults to the last two: groups 3 and 4 of
         * a four-stage ResNet, stages 2 and 3 of a CIFAR ResNet. No stages turns DropBlock off.
         *
         * @param stages the stages, each in [1, number of stages]
         * @return this builder
         */
        public Builder optDropBlockStages(int... stages) {
            this.dropBlockStages = stages == null ? null : stages.clone();
            return this;
        }

        /**
         * Sets whether the shortcuts of the chosen stages get DropBlock too. Defaults to true, the
         * paper's best.
         *
         * @param onShortcut whether to drop on the shortcut
         * @return this builder
         */
        public Builder optDropBlockOnShortcut(boolean onShortcut) {
            this.dropBlockOnShortcut = onShortcut;
            return this;
        }

        /**
         * Sets the block size of every DropBlock stage. Defaults to 7, the paper's best on
         * ResNet-50's 14x14 and 7x7 maps; clipped to each stage's feature map. Exclusive with a
         * block fraction.
         *
         * @param blockSize the block size, at least 1
         * @return this builder
         */
        public Builder optBlockSize(int blockSize) {
            this.blockSize = new int[] {blockSize};
            return this;
        }

        /**
         * Sets one block size per DropBlock stage, in the order of {@link
         * #optDropBlockStages(int...)} (ascending for the default stages), so that a smaller map
         * gets a smaller block: timm's ResNets use 5 on 14x14 maps and 3 on 7x7. Defaults to 7 in
         * every stage. Exclusive with a block fraction.
         *
         * @param perStage one block size per DropBlock stage, or a single one for all; each at
         *     least 1
         * @return this builder
         */
        public Builder optBlockSizePerStage(int... perStage) {
            this.blockSize = perStage == null ? null : perStage.clone();
            return this;
        }

        /**
         * Sets the block size of every DropBlock as a fraction of the height and the width of the
         * feature map it sees ({@link DropBlock#withBlockFraction(double...)}): rounded, at least
         * 1, so the block shrinks with the map from stage to stage. Defaults to none, the block
         * size 7. Exclusive with a block size.
         *
         * @param blockFraction the fraction, in (0, 1]
         * @return this builder
         */
        public Builder optBlockFraction(double blockFraction) {
            this.blockFraction = new double[] {blockFraction};
            return this;
        }

        /**
         * Sets one block fraction per DropBlock stage, in the order of {@link
         * #optDropBlockStages(int...)} (ascending for the default stages); see {@link
         * #optBlockFraction(double)}. Exclusive with a block size.
         *
         * @param perStage one fraction per DropBlock stage, or a single one for all; each in (0, 1]
         * @return this builder
         */
        public Builder optBlockFractionPerStage(double... perStage) {
            this.blockFraction = perStage == null ? null : perStage.clone();
            return this;
        }

        /**
         * Sets a fixed keep probability for every DropBlock. Defaults to 0.9. A schedule set with
         * {@link #optKeepProbSchedule(ISchedule)} takes its place.
         *
         * @param keepProb the probability of keeping a unit, in (0, 1]
         * @return this builder
         */
        public Builder optKeepProb(double keepProb) {
            this.keepProb = keepProb;
            return this;
        }

        /**
         * Sets the schedule of the keep probability, typically the paper's {@link
         * KeepProbSchedule#linear(double, int)} over the whole training. Defaults to none: the
         * fixed {@link #optKeepProb(double)}.
         *
         * @param keepProbSchedule the schedule, or null for the fixed keep probability
         * @return this builder
         */
        public Builder optKeepProbSchedule(ISchedule keepProbSchedule) {
            this.keepProbSchedule = keepProbSchedule;
            return this;
        }

        /**
         * Scales the drop probability per stage as the TF reference ResNet does: stage {@code g} of
         * {@code S} drops {@code (1 - keep_prob) / 4^(S - g)}, so the last stage drops most;
         * applied to the fixed keep probability and to a schedule ({@link
         * KeepProbSchedule#dropScaled(ISchedule, double)}). Defaults to false.
         *
         * @param stageScaling whether to scale per stage
         * @return this builder
         */
        public Builder optStageScaling(boolean stageScaling) {
            this.stageScaling = stageScaling;
            return this;
        }

        /**
         * Sets the updater. Defaults to SGD with Nesterov momentum 0.9 and learning rate 0.1
         * ({@code new Nesterovs(0.1, 0.9)}); an updater with a learning-rate schedule works too.
         *
         * @param updater the updater
         * @return this builder
         */
        public Builder optUpdater(IUpdater updater) {
            this.updater = updater;
            return this;
        }

        /**
         * Sets the weight decay of every layer (DL4J's {@code weightDecay}, applied with the
         * learning rate). Defaults to 1e-4, the ResNet paper's.
         *
         * @param weightDecay the coefficient, at least 0
         * @return this builder
         */
        public Builder optWeightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * Sets the seed of the parameters' initialisation. Defaults to DL4J's default.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Builds the configuration: one input {@code "input"}, the stem, the residual units named
         * {@code s<stage>u<unit>_...}, a global average pool and a softmax output {@code "output"}
         * with cross-entropy loss.
         *
         * @return the configuration, checked by {@link DropoutPlacement#requireValid}
         * @throws IllegalArgumentException if an option is not valid
         */
        public ComputationGraphConfiguration build() {
            ResNetLayout layout = ResNetLayout.of(numLayers);
            ResNetLayout.checkOutSize(outSize);
            ResNetLayout.checkImageShape(
                    imageShape == null ? null : Arrays.stream(imageShape).asLongStream().toArray());
            ResNetLayout.checkBatchNormMomentum(batchNormMomentum);
            Map<Integer, MaskSettings> masks =
                    layout.dropBlockMasks(dropBlockStages, blockSize, blockFraction);
            DropBlock.checkKeepProb(keepProb);
            if (updater == null) {
                throw new IllegalArgumentException("updater must not be null, got null");
            }
            if (!(weightDecay >= 0)) {
                throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
            }
            return DropoutPlacement.requireValid(new Network(this, layout, masks).build());
        }
    }

    /** Assembles the vertices of one configuration. */
    private static final class Network {
        private final Builder config;
        private final ResNetLayout layout;
        // The stages that get DropBlock, with their block sizes.
        private final Map<Integer, MaskSettings> masks;
        private final ComputationGraphConfiguration.GraphBuilder graph;
        private long height;
        private long width;
        // The vertex whose output the next vertex takes.
        private String last = "input";

        Network(Builder config, ResNetLayout layout, Map<Integer, MaskSettings> masks) {
            this.config = config;
            this.layout = layout;
            this.masks = masks;
            height = config.imageShape[1];
            width = config.imageShape[2];
            NeuralNetConfiguration.Builder base =
                    new NeuralNetConfiguration.Builder()
                            .updater(config.updater)
                            .weightInit(WeightInit.RELU)
                            .convolutionMode(ConvolutionMode.Truncate);
            if (config.weightDecay > 0) {
                base.weightDecay(config.weightDecay);
            }
            if (config.seed != null) {
                base.seed(config.seed);
            }
            graph = base.graphBuilder().addInputs("input");
        }

        ComputationGraphConfiguration build() {
            stem();
            for (int stage = 1; stage <= layout.numStages(); stage++) {
                for (int unit = 0; unit < layout.units(stage); unit++) {
                    residualUnit(stage, unit);
                }
            }
            graph.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last)
                    .addLayer(
                            "output",
                            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                    .nOut(config.outSize)
                                    .activation(Activation.SOFTMAX)
                                    .weightInit(WeightInit.XAVIER)
                                    .build(),
                            "pool")
                    .setOutputs("output")
                    .setInputTypes(
                            InputType.convolutional(
                                    config.imageShape[1],
                                    config.imageShape[2],
                                    config.imageShape[0]));
            return graph.build();
        }

        private void stem() {
            int filters = layout.stemFilters();
            if (ResNetLayout.hasLargeStem(height, width)) {
                last = add("stem_conv", conv(7, filters, 2), last);
                last = add("stem_bn", batchNorm(true), last);
                last =
                        add(
                                "stem_pool",
                                new SubsamplingLayer.Builder(PoolingType.MAX)
                                        .kernelSize(3, 3)
                                        .stride(2, 2)
                                        .padding(1, 1)
                                        .build(),
                                last);
                height = outSize(outSize(height, 7, 2, 3), 3, 2, 1);
                width = outSize(outSize(width, 7, 2, 3), 3, 2, 1);
            } else {
                last = add("stem_conv", conv(3, filters, 1), last);
                last = add("stem_bn", batchNorm(true), last);
            }
        }

        private void residualUnit(int stage, int unit) {
            String name = "s" + stage + "u" + unit + "_";
            int stride = layout.stride(stage, unit);
            if (stride != 1) {
                height = outSize(height, 3, stride, 1);
                width = outSize(width, 3, stride, 1);
            }
            boolean drop = masks.containsKey(stage);
            String unitInput = last;
            String branch = unitInput;
            List<ResNetLayout.Convolution> convolutions = layout.branch(stage, unit);
            for (int i = 1; i <= convolutions.size(); i++) {
                ResNetLayout.Convolution c = convolutions.get(i - 1);
                // The inner batch norms carry the ReLU; the last one's output meets the shortcut.
                boolean lastOfBranch = i == convolutions.size();
                branch = add(name + "conv" + i, conv(c.kernel(), c.filters(), c.stride()), branch);
                branch =
                        add(
                                name + "bn" + i,
                                lastOfBranch ? lastBatchNorm() : batchNorm(true),
                                branch);
                branch = dropBlock(name + "drop" + i, drop, stage, branch);
            }
            String shortcut = unitInput;
            if (layout.hasProjection(stage, unit)) {
                shortcut = add(name + "proj", conv(1, layout.outFilters(stage), stride), shortcut);
                shortcut = add(name + "proj_bn", batchNorm(false), shortcut);
            }
            shortcut =
                    dropBlock(
                            name + "shortcut_drop",
                            drop && config.dropBlockOnShortcut,
                            stage,
                            shortcut);
            graph.addVertex(
                    name + "add",
                    new ElementWiseVertex(ElementWiseVertex.Op.Add),
                    branch,
                    shortcut);
            last =
                    add(
                            name + "relu",
                            new ActivationLayer.Builder().activation(Activation.RELU).build(),
                            name + "add");
        }

        private String dropBlock(String name, boolean drop, int stage, String input) {
            if (!drop) {
                return input;
            }
            double weight = config.stageScaling ? layout.stageWeight(stage) : 1.0;
            MaskSettings mask = masks.get(stage);
            int[] blockSize = mask.blockSize();
            // A size is clipped here, a fraction resolved by the DropBlock on the map it sees.
            int clipped =
                    blockSize == null
                            ? 1
                            : (int) Math.max(1, Math.min(blockSize[0], Math.min(height, width)));
            DropBlock dropBlock =
                    config.keepProbSchedule == null
                            ? new DropBlock(1 - weight * (1 - config.keepProb), clipped)
                            : new DropBlock(
                                    weight == 1.0
                                            ? config.keepProbSchedule
                                            : KeepProbSchedule.dropScaled(
                                                    config.keepProbSchedule, weight),
                                    clipped);
            if (blockSize == null) {
                dropBlock = dropBlock.withBlockFraction(mask.blockFraction());
            }
            return add(name, new DropoutLayer.Builder(dropBlock).build(), input);
        }

        private String add(String name, Layer layer, String input) {
            graph.addLayer(name, layer, input);
            return name;
        }

        private BatchNormalization batchNorm(boolean relu) {
            return new BatchNormalization.Builder()
                    .decay(config.batchNormMomentum)
                    .eps(1e-5)
                    .activation(relu ? Activation.RELU : Activation.IDENTITY)
                    .build();
        }

        private BatchNormalization lastBatchNorm() {
            // gamma is the initial value of the learned scale unless lockGammaBeta is set.
            return new BatchNormalization.Builder()
                    .decay(config.batchNormMomentum)
                    .eps(1e-5)
                    .gamma(0.0)
                    .activation(Activation.IDENTITY)
                    .build();
        }

        private static ConvolutionLayer conv(int kernel, int filters, int stride) {
            return new ConvolutionLayer.Builder(kernel, kernel)
                    .stride(stride, stride)
                    .padding(kernel / 2, kernel / 2)
                    .nOut(filters)
                    .hasBias(false)
                    .activation(Activation.IDENTITY)
                    .build();
        }

        private static long outSize(long size, int kernel, int stride, int pad) {
            return (size + 2L * pad - kernel) / stride + 1;
        }
    }
}
