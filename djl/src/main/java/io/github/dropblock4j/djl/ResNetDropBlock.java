package io.github.dropblock4j.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.initializer.Initializer;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Residual networks (He et al., arXiv 1512.03385) with DropBlock where the DropBlock paper (Ghiasi,
 * Lin and Le, arXiv 1810.12890) found it works best: after every batch norm of the residual branch
 * in the last stages (groups 3 and 4 of ResNet-50), and on the shortcut as well.
 *
 * <p>The depth picks the {@link ResNetLayout}: the ImageNet family (18, 34, 50, 101, 152) or the
 * CIFAR family (20, 32, 44, 56, 110), with their stages, filters, stem and shortcuts; {@link
 * #DEPTHS} lists the depths and {@link #numStages(int)} gives a depth's number of stages.
 *
 * <p>The placement follows the TF reference implementation of the paper: in a chosen stage,
 * DropBlock follows each convolution's batch norm in the residual branch and, when enabled, the
 * shortcut (after the projection, or on the identity). The last batch norm of every residual branch
 * starts with gamma = 0, so each residual block starts as its shortcut: without it, DropBlock's
 * rescaled blocks on both branches add up through the identity paths and make the first steps of
 * SGD with momentum diverge.
 */
public final class ResNetDropBlock {

    /**
     * Every supported depth, in increasing order: the depths of both {@link ResNetLayout.Family}s
     * together, {@link ResNetLayout#DEPTHS}.
     */
    public static final List<Integer> DEPTHS = ResNetLayout.DEPTHS;

    private ResNetDropBlock() {}

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the number of stages of a ResNet of the given depth, the upper bound of {@link
     * Builder#optDropBlockStages(int...)}.
     *
     * @param depth the number of layers, one of {@link #DEPTHS}
     * @return 4 for the ImageNet family, 3 for the CIFAR family
     * @throws IllegalArgumentException naming the depth if it is not supported
     */
    public static int numStages(int depth) {
        return ResNetLayout.Family.of(depth).numStages();
    }

    /** The builder of a ResNet with DropBlock; names follow DJL's {@code ResNetV1}. */
    public static final class Builder {

        private int numLayers = -1;
        private long outSize = -1;
        private Shape imageShape;
        private float batchNormMomentum = 0.9f;
        private int[] dropBlockStages;
        private boolean dropBlockOnShortcut = true;
        private int[] blockSize;
        private double[] blockFraction;
        private float dropProb = 0.1f;
        private boolean stageScaling;

        Builder() {}

        /**
         * Sets the depth: 18, 34, 50, 101 or 152 (ImageNet family), or 20, 32, 44, 56 or 110 (CIFAR
         * family); see {@link #DEPTHS}. Required.
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
        public Builder setOutSize(long outSize) {
            this.outSize = outSize;
            return this;
        }

        /**
         * Sets the shape of one input image, (channels, height, width). Required.
         *
         * @param imageShape the image shape
         * @return this builder
         */
        public Builder setImageShape(Shape imageShape) {
            this.imageShape = imageShape;
            return this;
        }

        /**
         * Sets the momentum of every batch norm. Defaults to 0.9.
         *
         * @param batchNormMomentum the momentum, in [0, 1)
         * @return this builder
         */
        public Builder optBatchNormMomentum(float batchNormMomentum) {
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
         * ResNet-50's 14x14 and 7x7 maps. Every DropBlock clips it to its feature map in each
         * dimension separately, so a block larger than every map drops whole channels (spatial
         * dropout), on non-square maps too. Exclusive with a block fraction.
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
         * feature map it sees ({@link DropBlock.Builder#optBlockFraction(double...)}): rounded, at
         * least 1, so the block shrinks with the map from stage to stage. Defaults to none, the
         * block size 7. Exclusive with a block size.
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
         * Sets the drop probability the DropBlocks start with, and the target a {@link
         * DropBlockScheduler} ramps to. Defaults to 0.1 (keep_prob 0.9).
         *
         * @param dropProb the drop probability, in [0, 1)
         * @return this builder
         */
        public Builder optDropProb(float dropProb) {
            this.dropProb = dropProb;
            return this;
        }

        /**
         * Scales the drop probability per stage as the TF reference ResNet does: stage {@code g} of
         * {@code S} gets {@code dropProb / 4^(S - g)}, so the last stage drops most. Applied to the
         * built value and, through {@link DropBlock#getScheduleWeight()}, to a scheduler's.
         * Defaults to false.
         *
         * @param stageScaling whether to scale per stage
         * @return this builder
         */
        public Builder optStageScaling(boolean stageScaling) {
            this.stageScaling = stageScaling;
            return this;
        }

        /**
         * Builds the network: a {@link SequentialBlock} of the stem, one {@link SequentialBlock}
         * per stage, and the head (global average pool, flatten, linear).
         *
         * @return the network
         * @throws IllegalArgumentException if an option is not valid
         */
        public Block build() {
            ResNetLayout layout = ResNetLayout.of(numLayers);
            ResNetLayout.checkOutSize(outSize);
            ResNetLayout.checkImageShape(imageShape == null ? null : imageShape.getShape());
            ResNetLayout.checkBatchNormMomentum(batchNormMomentum);
            Map<Integer, MaskSettings> masks =
                    layout.dropBlockMasks(dropBlockStages, blockSize, blockFraction);
            DropBlockGamma.checkDropProb(dropProb);
            return new Network(this, layout, masks).build();
        }
    }

    /** Assembles the blocks of one configuration. */
    private static final class Network {
        private final Builder config;
        private final ResNetLayout layout;
        // The stages that get DropBlock, with their block sizes.
        private final Map<Integer, MaskSettings> masks;

        Network(Builder config, ResNetLayout layout, Map<Integer, MaskSettings> masks) {
            this.config = config;
            this.layout = layout;
            this.masks = masks;
        }

        Block build() {
            SequentialBlock net = new SequentialBlock();
            net.add(stem());
            for (int stage = 1; stage <= layout.numStages(); stage++) {
                SequentialBlock group = new SequentialBlock();
                for (int unit = 0; unit < layout.units(stage); unit++) {
                    group.add(residualUnit(stage, unit));
                }
                net.add(group);
            }
            net.add(Pool.globalAvgPool2dBlock())
                    .add(Blocks.batchFlattenBlock())
                    .add(Linear.builder().setUnits(config.outSize).build());
            return net;
        }

        private Block stem() {
            long height = config.imageShape.get(1);
            long width = config.imageShape.get(2);
            int filters = layout.stemFilters();
            SequentialBlock stem = new SequentialBlock();
            if (ResNetLayout.hasLargeStem(height, width)) {
                stem.add(conv(7, filters, 2)).add(batchNorm()).add(Activation::relu);
                stem.add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
            } else {
                stem.add(conv(3, filters, 1)).add(batchNorm()).add(Activation::relu);
            }
            return stem;
        }

        private Block residualUnit(int stage, int unit) {
            boolean drop = masks.containsKey(stage);
            SequentialBlock branch = new SequentialBlock();
            List<ResNetLayout.Convolution> convolutions = layout.branch(stage, unit);
            for (int i = 0; i < convolutions.size(); i++) {
                ResNetLayout.Convolution c = convolutions.get(i);
                boolean lastOfBranch = i == convolutions.size() - 1;
                branch.add(conv(c.kernel(), c.filters(), c.stride()));
                branch.add(lastOfBranch ? lastBatchNorm() : batchNorm());
                addDropBlock(branch, drop, stage);
                if (!lastOfBranch) {
                    branch.add(Activation::relu);
                }
            }
            SequentialBlock shortcut = new SequentialBlock();
            if (layout.hasProjection(stage, unit)) {
                int stride = layout.stride(stage, unit);
                shortcut.add(conv(1, layout.outFilters(stage), stride)).add(batchNorm());
            }
            addDropBlock(shortcut, drop && config.dropBlockOnShortcut, stage);
            Block shortcutOrIdentity =
                    shortcut.getChildren().isEmpty() ? Blocks.identityBlock() : shortcut;
            return new SequentialBlock()
                    .add(
                            new ParallelBlock(
                                    list ->
                                            new NDList(
                                                    list.get(0)
                                                            .singletonOrThrow()
                                                            .add(list.get(1).singletonOrThrow())),
                                    Arrays.asList(branch, shortcutOrIdentity)))
                    .add(Activation::relu);
        }

        private void addDropBlock(SequentialBlock to, boolean drop, int stage) {
            if (!drop) {
                return;
            }
            float weight = config.stageScaling ? (float) layout.stageWeight(stage) : 1f;
            // Not clipped or resolved here: DropBlock fits the block to the map it sees.
            MaskSettings mask = masks.get(stage);
            DropBlock.Builder dropBlock =
                    DropBlock.builder()
                            .optDropProb(config.dropProb * weight)
                            .optScheduleWeight(weight);
            if (mask.blockSize() != null) {
                dropBlock.optBlockSize(mask.blockSize());
            } else {
                dropBlock.optBlockFraction(mask.blockFraction());
            }
            to.add(dropBlock.build());
        }

        private Block batchNorm() {
            return BatchNorm.builder()
                    .optMomentum(config.batchNormMomentum)
                    .optEpsilon(1e-5f)
                    .build();
        }

        private Block lastBatchNorm() {
            Block bn = batchNorm();
            bn.setInitializer(Initializer.ZEROS, Parameter.Type.GAMMA);
            return bn;
        }

        private static Block conv(int kernel, int filters, int stride) {
            return Conv2d.builder()
                    .setKernelShape(new Shape(kernel, kernel))
                    .setFilters(filters)
                    .optStride(new Shape(stride, stride))
                    .optPadding(new Shape(kernel / 2, kernel / 2))
                    .optBias(false)
                    .build();
        }
    }
}
