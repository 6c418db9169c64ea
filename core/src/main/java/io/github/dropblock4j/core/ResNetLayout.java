package io.github.dropblock4j.core;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The layout of a residual network (He et al., arXiv 1512.03385) of a given depth, and where
 * DropBlock (Ghiasi, Lin and Le, arXiv 1810.12890) goes in it: what the DJL and the DL4J builders
 * of {@code ResNetDropBlock} both follow, with no framework in it.
 *
 * <ul>
 *   <li>{@link Family#IMAGENET}: depths 18 and 34 (basic blocks of two 3x3 convolutions) and 50,
 *       101 and 152 (bottleneck blocks, 1x1, 3x3, 1x1, whose output has 4 times the filters); four
 *       stages of 64, 128, 256 and 512 filters with 2/2/2/2 (18), 3/4/6/3 (34, 50), 3/4/23/3 (101)
 *       and 3/8/36/3 (152) residual units.
 *   <li>{@link Family#CIFAR} (section 4.2 of the ResNet paper): depth {@code 6n + 2} for {@code n}
 *       = 3, 5, 7, 9, 18; three stages of 16, 32 and 64 filters with {@code n} basic blocks each.
 * </ul>
 *
 * <p>Stage {@code g} (from 1) has {@code baseFilters * 2^(g - 1)} filters. The first unit of every
 * stage but the first halves the feature map with stride 2; a unit's shortcut is a projection (a
 * 1x1 convolution with batch norm) where its shape changes, i.e. in the first unit of a stage that
 * strides or of a bottleneck network, and the identity elsewhere.
 *
 * <p>DropBlock goes into the stages {@link #dropBlockStages(int[])} returns, the last two unless
 * chosen (groups 3 and 4 of ResNet-50 in the paper), each stage with its own block size if wanted
 * ({@link #dropBlockMasks(int[], int[], double[])}). With per-stage scaling, as in the TF reference
 * ResNet of the paper, stage {@code g} of {@code S} drops {@code dropProb / 4^(S - g)} ({@link
 * #stageWeight(int)}), so the last stage drops most.
 *
 * <p>The static checks are those of the options both builders share, with one message each.
 *
 * <p>Instances are immutable and thread safe.
 */
public final class ResNetLayout {

    /** The block size of every DropBlock unless chosen: 7, the paper's best on ResNet-50. */
    public static final int DEFAULT_BLOCK_SIZE = 7;

    /**
     * Every supported depth, in increasing order: the depths of {@link Family#IMAGENET} and {@link
     * Family#CIFAR} together.
     */
    public static final List<Integer> DEPTHS =
            Stream.of(Family.values())
                    .flatMap(family -> family.depths().stream())
                    .sorted()
                    .collect(Collectors.toUnmodifiableList());

    // Images up to this size in height and width keep their resolution in the stem.
    private static final int SMALL_IMAGE = 32;

    /** The two families of residual networks, told apart by their depth. */
    public enum Family {
        /**
         * The ImageNet ResNets of He et al.: four stages of 64/128/256/512 filters, basic blocks
         * for depths 18 and 34 and bottleneck blocks for 50, 101 and 152.
         */
        IMAGENET(4, 64, List.of(18, 34, 50, 101, 152)),

        /**
         * The CIFAR ResNets of He et al. (section 4.2): three stages of 16/32/64 filters with
         * {@code n} basic blocks each, depth {@code 6n + 2}.
         */
        CIFAR(3, 16, List.of(20, 32, 44, 56, 110));

        private final int numStages;
        private final int baseFilters;
        private final List<Integer> depths;

        Family(int numStages, int baseFilters, List<Integer> depths) {
            this.numStages = numStages;
            this.baseFilters = baseFilters;
            this.depths = depths;
        }

        /**
         * Returns the family of a depth.
         *
         * @param depth the number of layers, one of {@link #DEPTHS}
         * @return its family
         * @throws IllegalArgumentException naming the depth if it is not supported
         */
        public static Family of(int depth) {
            return familyOf("depth", depth);
        }

        /**
         * Returns the number of stages (groups of residual units at one resolution).
         *
         * @return 4 for {@link #IMAGENET}, 3 for {@link #CIFAR}
         */
        public int numStages() {
            return numStages;
        }

        /**
         * Returns the number of filters of the first stage; each later stage doubles it.
         *
         * @return 64 for {@link #IMAGENET}, 16 for {@link #CIFAR}
         */
        public int baseFilters() {
            return baseFilters;
        }

        /**
         * Returns the depths of this family, in increasing order.
         *
         * @return an unmodifiable list
         */
        public List<Integer> depths() {
            return depths;
        }
    }

    /**
     * A square convolution of a residual branch, padded by {@code kernel / 2} so that only the
     * stride changes the feature map's size.
     *
     * @param kernel the kernel size in height and width, 1 or 3
     * @param filters the number of output channels
     * @param stride the stride in height and width, 1 or 2
     */
    public record Convolution(int kernel, int filters, int stride) {}

    private final int numLayers;
    private final Family family;
    private final int[] unitsPerStage;

    private ResNetLayout(int numLayers, Family family, int[] unitsPerStage) {
        this.numLayers = numLayers;
        this.family = family;
        this.unitsPerStage = unitsPerStage;
    }

    /**
     * Returns the layout of a ResNet of the given depth.
     *
     * @param numLayers the depth, one of {@link #DEPTHS}
     * @return its layout
     * @throws IllegalArgumentException naming the depth if it is not supported
     */
    public static ResNetLayout of(int numLayers) {
        Family family = familyOf("numLayers", numLayers);
        return new ResNetLayout(numLayers, family, unitsPerStage(numLayers));
    }

    private static Family familyOf(String argument, int depth) {
        for (Family family : Family.values()) {
            if (family.depths.contains(depth)) {
                return family;
            }
        }
        throw new IllegalArgumentException(
                argument
                        + " must be one of "
                        + Family.IMAGENET.depths
                        + " (ImageNet family) or "
                        + Family.CIFAR.depths
                        + " (CIFAR family), got "
                        + depth);
    }

    private static int[] unitsPerStage(int numLayers) {
        switch (numLayers) {
            case 18:
                return new int[] {2, 2, 2, 2};
            case 34:
            case 50:
                return new int[] {3, 4, 6, 3};
            case 101:
                return new int[] {3, 4, 23, 3};
            case 152:
                return new int[] {3, 8, 36, 3};
            default:
                // The CIFAR family: 6n + 2 layers, n units of two convolutions in each stage.
                int n = (numLayers - 2) / 6;
                return new int[] {n, n, n};
        }
    }

    /**
     * Checks the number of classes, the size of the output layer.
     *
     * @param outSize the number of classes
     * @throws IllegalArgumentException naming the value if it is less than 1
     */
    public static void checkOutSize(long outSize) {
        if (outSize < 1) {
            throw new IllegalArgumentException("outSize must be >= 1, got " + outSize);
        }
    }

    /**
     * Checks the shape of one input image: {@code (channels, height, width)}, each at least 1.
     *
     * @param imageShape the shape, or null when none was set
     * @throws IllegalArgumentException naming the shape if it is null, not of rank 3 or has a size
     *     below 1
     */
    public static void checkImageShape(long[] imageShape) {
        if (imageShape == null
                || imageShape.length != 3
                || Arrays.stream(imageShape).anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException(
                    "imageShape must be (channels, height, width) with positive sizes, got "
                            + (imageShape == null
                                    ? "null"
                                    : Arrays.stream(imageShape)
                                            .mapToObj(Long::toString)
                                            .collect(Collectors.joining(", ", "(", ")"))));
        }
    }

    /**
     * Checks the momentum of the batch norms' running statistics, {@code running = momentum *
     * running + (1 - momentum) * batch} (DJL's {@code BatchNorm} momentum, DL4J's {@code
     * BatchNormalization} decay).
     *
     * @param batchNormMomentum the momentum
     * @throws IllegalArgumentException naming the value if it is NaN or not in [0, 1)
     */
    public static void checkBatchNormMomentum(double batchNormMomentum) {
        if (!(batchNormMomentum >= 0 && batchNormMomentum < 1)) {
            throw new IllegalArgumentException(
                    "batchNormMomentum must be in [0, 1), got " + batchNormMomentum);
        }
    }

    /**
     * Returns whether an image gets the ImageNet stem, a 7x7 stride-2 convolution and a 3x3
     * stride-2 max pool: when it is larger than 32 pixels in height or width. A smaller image gets
     * a 3x3 stride-1 convolution instead, so that it keeps a useful feature map. Either has {@link
     * #stemFilters()} filters.
     *
     * @param height the image's height in pixels
     * @param width the image's width in pixels
     * @return whether the stem downsamples 4 times
     */
    public static boolean hasLargeStem(long height, long width) {
        return height > SMALL_IMAGE || width > SMALL_IMAGE;
    }

    /**
     * Returns the depth.
     *
     * @return the number of layers, one of {@link #DEPTHS}
     */
    public int numLayers() {
        return numLayers;
    }

    /**
     * Returns the family of the depth.
     *
     * @return the family
     */
    public Family family() {
        return family;
    }

    /**
     * Returns the number of stages.
     *
     * @return 4 for the ImageNet family, 3 for the CIFAR family
     */
    public int numStages() {
        return family.numStages();
    }

    /**
     * Returns whether the residual units are bottleneck blocks (1x1, 3x3, 1x1 convolutions, with 4
     * times the filters at the output): ImageNet depths of 50 and more.
     *
     * @return true for depths 50, 101 and 152
     */
    public boolean isBottleneck() {
        return family == Family.IMAGENET && numLayers >= 50;
    }

    /**
     * Returns the number of filters of the stem's convolution: those of the first stage, whose
     * first unit in a basic-block network adds its input through the identity (64 for the ImageNet
     * family, 16 for the CIFAR family, whichever stem {@link #hasLargeStem(long, long)} picks).
     *
     * @return the filters of the first stage
     */
    public int stemFilters() {
        return family.baseFilters();
    }

    /**
     * Returns the number of residual units in a stage.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @return the number of units, at least 2
     * @throws IllegalArgumentException naming the stage if it is out of range
     */
    public int units(int stage) {
        checkStage(stage);
        return unitsPerStage[stage - 1];
    }

    /**
     * Returns the number of filters of a stage's convolutions, {@code baseFilters * 2^(stage - 1)};
     * the last convolution of a bottleneck block has 4 times as many ({@link #outFilters(int)}).
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @return the number of filters
     * @throws IllegalArgumentException naming the stage if it is out of range
     */
    public int filters(int stage) {
        checkStage(stage);
        return family.baseFilters() << (stage - 1);
    }

    /**
     * Returns the number of channels a stage's residual units put out.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @return 4 times {@link #filters(int)} for bottleneck blocks, {@link #filters(int)} otherwise
     * @throws IllegalArgumentException naming the stage if it is out of range
     */
    public int outFilters(int stage) {
        return isBottleneck() ? 4 * filters(stage) : filters(stage);
    }

    /**
     * Returns the stride of a residual unit: 2 for the first unit of every stage but the first,
     * which halves the feature map, 1 otherwise.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @param unit the unit within the stage, from 0
     * @return 1 or 2
     * @throws IllegalArgumentException naming the stage or unit if it is out of range
     */
    public int stride(int stage, int unit) {
        checkUnit(stage, unit);
        return unit == 0 && stage > 1 ? 2 : 1;
    }

    /**
     * Returns the convolutions of a residual unit's branch, in order: 1x1, 3x3 (with the unit's
     * stride) and 1x1 to {@link #outFilters(int)} for a bottleneck block, two 3x3 (the first with
     * the unit's stride) for a basic block. Each is followed by a batch norm, and all but the last
     * by a ReLU; the branch's output is added to the shortcut's.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @param unit the unit within the stage, from 0
     * @return the convolutions, an unmodifiable list
     * @throws IllegalArgumentException naming the stage or unit if it is out of range
     */
    public List<Convolution> branch(int stage, int unit) {
        int filters = filters(stage);
        int stride = stride(stage, unit);
        if (isBottleneck()) {
            return List.of(
                    new Convolution(1, filters, 1),
                    new Convolution(3, filters, stride),
                    new Convolution(1, outFilters(stage), 1));
        }
        return List.of(new Convolution(3, filters, stride), new Convolution(3, filters, 1));
    }

    /**
     * Returns whether a residual unit's shortcut is a projection (a 1x1 convolution of {@link
     * #outFilters(int)} filters and {@link #stride(int, int)}, with batch norm) rather than the
     * identity: where the unit changes the shape, in the first unit of a stage that strides or of a
     * bottleneck network.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @param unit the unit within the stage, from 0
     * @return whether the shortcut projects
     * @throws IllegalArgumentException naming the stage or unit if it is out of range
     */
    public boolean hasProjection(int stage, int unit) {
        int stride = stride(stage, unit);
        return unit == 0 && (stride != 1 || isBottleneck());
    }

    /**
     * Returns the stages that get DropBlock: the requested ones, or the last two when none are
     * requested (groups 3 and 4 of a four-stage ResNet, stages 2 and 3 of a CIFAR ResNet). An empty
     * array turns DropBlock off.
     *
     * @param dropBlockStages the stages (from 1), or null for the default
     * @return the stages, a new array
     * @throws IllegalArgumentException naming the stages if one is not in [1, {@link #numStages()}]
     */
    public int[] dropBlockStages(int[] dropBlockStages) {
        int numStages = numStages();
        if (dropBlockStages == null) {
            return new int[] {numStages - 1, numStages};
        }
        for (int s : dropBlockStages) {
            if (s < 1 || s > numStages) {
                throw new IllegalArgumentException(
                        "dropBlockStages must be in [1, "
                                + numStages
                                + "] for a "
                                + numLayers
                                + "-layer ResNet, got "
                                + Arrays.toString(dropBlockStages));
            }
        }
        return dropBlockStages.clone();
    }

    /**
     * Returns the stages that get DropBlock ({@link #dropBlockStages(int[])}) with the mask
     * settings of each stage's DropBlocks: the paper's gamma, scale and mask sharing, and a block
     * given in units or as a fraction of the stage's feature map, one for every stage or one per
     * stage in the order of {@code dropBlockStages} (ascending for the default stages). A smaller
     * block suits a smaller map: timm's ResNets use 5 on 14x14 maps and 3 on 7x7. With neither
     * given every stage gets {@link #DEFAULT_BLOCK_SIZE}.
     *
     * @param dropBlockStages the stages (from 1), or null for the default
     * @param blockSize one block size for every stage or one per stage, each at least 1; null
     *     unless chosen
     * @param blockFraction one fraction of the map's height and width for every stage or one per
     *     stage, each in (0, 1]; null unless chosen
     * @return from each stage that gets DropBlock, in the order of the stages, to its settings; an
     *     unmodifiable map, empty when DropBlock is off
     * @throws IllegalArgumentException naming the values if a stage is out of range, both a block
     *     size and a fraction are given, one has neither one entry nor one per stage, or a value is
     *     out of range
     */
    public Map<Integer, MaskSettings> dropBlockMasks(
            int[] dropBlockStages, int[] blockSize, double[] blockFraction) {
        int[] stages = dropBlockStages(dropBlockStages);
        if (blockSize != null && blockFraction != null) {
            throw new IllegalArgumentException(
                    "blockSize and blockFraction are exclusive, got "
                            + Arrays.toString(blockSize)
                            + " and "
                            + Arrays.toString(blockFraction));
        }
        int entries =
                blockSize != null
                        ? blockSize.length
                        : blockFraction != null ? blockFraction.length : 1;
        if (entries != 1 && entries != stages.length) {
            throw new IllegalArgumentException(
                    (blockSize != null ? "blockSize" : "blockFraction")
                            + " must have 1 entry or one per DropBlock stage ("
                            + stages.length
                            + " for stages "
                            + Arrays.toString(stages)
                            + "), got "
                            + (blockSize != null
                                    ? Arrays.toString(blockSize)
                                    : Arrays.toString(blockFraction)));
        }
        if (blockSize != null) {
            BlockGeometry.checkBlockSize(blockSize);
        } else if (blockFraction != null) {
            BlockGeometry.checkBlockFraction(blockFraction);
        }
        Map<Integer, MaskSettings> masks = new LinkedHashMap<>();
        MaskSettings paper = MaskSettings.of(DEFAULT_BLOCK_SIZE);
        for (int i = 0; i < stages.length; i++) {
            int at = entries == 1 ? 0 : i;
            MaskSettings mask =
                    blockSize != null
                            ? paper.withBlockSize(blockSize[at])
                            : blockFraction != null
                                    ? paper.withBlockFraction(blockFraction[at])
                                    : paper;
            // A stage named twice keeps its first block size.
            masks.putIfAbsent(stages[i], mask);
        }
        return Collections.unmodifiableMap(masks);
    }

    /**
     * Returns the factor on the drop probability of a stage with per-stage scaling, as in the TF
     * reference ResNet of the DropBlock paper: {@code 1 / 4^(S - stage)} for {@code S} stages, 1 in
     * the last stage.
     *
     * @param stage the stage, in [1, {@link #numStages()}]
     * @return the weight, in (0, 1]
     * @throws IllegalArgumentException naming the stage if it is out of range
     */
    public double stageWeight(int stage) {
        checkStage(stage);
        return Math.pow(4, -(numStages() - stage));
    }

    private void checkStage(int stage) {
        if (stage < 1 || stage > numStages()) {
            throw new IllegalArgumentException(
                    "stage must be in [1, "
                            + numStages()
                            + "] for a "
                            + numLayers
                            + "-layer ResNet, got "
                            + stage);
        }
    }

    private void checkUnit(int stage, int unit) {
        int units = units(stage);
        if (unit < 0 || unit >= units) {
            throw new IllegalArgumentException(
                    "unit must be in [0, "
                            + (units - 1)
                            + "] for stage "
                            + stage
                            + " of a "
                            + numLayers
                            + "-layer ResNet, got "
                            + unit);
        }
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        return o instanceof ResNetLayout && ((ResNetLayout) o).numLayers == numLayers;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Integer.hashCode(numLayers);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ResNetLayout(numLayers="
                + numLayers
                + ", family="
                + family
                + ", units="
                + Arrays.toString(unitsPerStage)
                + (isBottleneck() ? ", bottleneck" : "")
                + ")";
    }
}
