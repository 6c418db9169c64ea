package io.github.dropblock4j.core;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * How a DropBlock (arXiv 1810.12890) draws its masks, apart from the drop probability: the block
 * size, the {@link GammaMode}, the {@link ScaleMode} and the {@link MaskSharing}. The DJL block and
 * the DL4J dropout both hold one, so that the settings are checked, and an input checked and laid
 * out against them, in one place.
 *
 * <p>The input is {@code (N, C, spatial...)}, of rank 3, 4 or 5 (DropBlock 1D, 2D or 3D). The block
 * is given either in units, its {@link #blockSize()}, one entry for every spatial dimension or one
 * per dimension, each at least 1 and clipped to the feature map per dimension, or as a {@link
 * #blockFraction()} of each spatial dimension of the map at hand, rounded, at least 1 ({@link
 * BlockGeometry#ofFraction(int[], double[])}); never both. Either way gamma is derived from the
 * block actually applied.
 *
 * <p>Instances are immutable and thread safe.
 */
public final class MaskSettings {

    /**
     * Something that draws DropBlock masks with a {@link MaskSettings}, the DJL block and the DL4J
     * dropout: its getters, named after the builder's {@code optBlockSize}, {@code optGammaMode},
     * {@code optScaleMode} and {@code optMaskSharing}, read the settings.
     */
    public interface Holder {

        /**
         * Returns the settings the masks are drawn with.
         *
         * @return the settings
         */
        MaskSettings getMaskSettings();

        /**
         * Returns the block size: one entry for every spatial dimension, or one per dimension.
         *
         * @return a copy of the block size, or null when the block is a fraction of the map ({@link
         *     #getBlockFraction()})
         */
        default int[] getBlockSize() {
            return getMaskSettings().blockSize();
        }

        /**
         * Returns the block size as a fraction of each spatial dimension of the feature map.
         *
         * @return a copy of the fraction, or null when the block size is in units ({@link
         *     #getBlockSize()})
         */
        default double[] getBlockFraction() {
            return getMaskSettings().blockFraction();
        }

        /**
         * Returns how gamma is derived from the drop probability.
         *
         * @return the gamma mode
         */
        default GammaMode getGammaMode() {
            return getMaskSettings().gammaMode();
        }

        /**
         * Returns how kept units are scaled.
         *
         * @return the scale mode
         */
        default ScaleMode getScaleMode() {
            return getMaskSettings().scaleMode();
        }

        /**
         * Returns which units share a mask.
         *
         * @return the mask sharing
         */
        default MaskSharing getMaskSharing() {
            return getMaskSettings().maskSharing();
        }
    }

    // Masks are written through int-indexed buffers (BlockSeeds.write), in both frameworks.
    private static final long MAX_MASK_UNITS = Integer.MAX_VALUE;

    // Exactly one of the two is null.
    private final int[] blockSize;
    private final double[] blockFraction;
    private final GammaMode gammaMode;
    private final ScaleMode scaleMode;
    private final MaskSharing maskSharing;

    private MaskSettings(
            int[] blockSize,
            double[] blockFraction,
            GammaMode gammaMode,
            ScaleMode scaleMode,
            MaskSharing maskSharing) {
        this.blockSize = blockSize;
        this.blockFraction = blockFraction;
        this.gammaMode = gammaMode;
        this.scaleMode = scaleMode;
        this.maskSharing = maskSharing;
    }

    /**
     * Returns the paper's settings for a block size: {@link GammaMode#CALIBRATED}, {@link
     * ScaleMode#BATCH} and {@link MaskSharing#PER_CHANNEL}.
     *
     * @param blockSize the block size in every spatial dimension, at least 1
     * @return the settings
     * @throws IllegalArgumentException naming the block size if it is less than 1
     */
    public static MaskSettings of(int blockSize) {
        return of(
                new int[] {blockSize},
                GammaMode.CALIBRATED,
                ScaleMode.BATCH,
                MaskSharing.PER_CHANNEL);
    }

    /**
     * Returns checked settings.
     *
     * @param blockSize one block size for every spatial dimension, or one per dimension; 1 to 3
     *     entries, each at least 1
     * @param gammaMode how gamma is derived from the drop probability
     * @param scaleMode how kept units are scaled
     * @param maskSharing which units share a mask
     * @return the settings, with a copy of the block size
     * @throws IllegalArgumentException naming the value when the block size is not valid or a mode
     *     is null
     */
    public static MaskSettings of(
            int[] blockSize, GammaMode gammaMode, ScaleMode scaleMode, MaskSharing maskSharing) {
        return of(blockSize, null, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns checked settings whose block is given in units or as a fraction of the map, one of
     * the two.
     *
     * @param blockSize one block size for every spatial dimension, or one per dimension; 1 to 3
     *     entries, each at least 1; null when {@code blockFraction} is given
     * @param blockFraction one fraction of the map for every spatial dimension, or one per
     *     dimension; 1 to 3 entries, each in (0, 1]; null when {@code blockSize} is given
     * @param gammaMode how gamma is derived from the drop probability
     * @param scaleMode how kept units are scaled
     * @param maskSharing which units share a mask
     * @return the settings, with a copy of the block size or fraction
     * @throws IllegalArgumentException naming the values when both or neither of the block size and
     *     fraction are given, one is not valid, or a mode is null
     */
    public static MaskSettings of(
            int[] blockSize,
            double[] blockFraction,
            GammaMode gammaMode,
            ScaleMode scaleMode,
            MaskSharing maskSharing) {
        if (blockSize != null && blockFraction != null) {
            throw new IllegalArgumentException(
                    "blockSize and blockFraction are exclusive, got "
                            + Arrays.toString(blockSize)
                            + " and "
                            + Arrays.toString(blockFraction));
        }
        if (blockFraction != null) {
            BlockGeometry.checkBlockFraction(blockFraction);
            if (blockFraction.length > 3) {
                throw new IllegalArgumentException(
                        "blockFraction must have at most 3 entries (1D, 2D or 3D), got "
                                + Arrays.toString(blockFraction));
            }
        } else {
            BlockGeometry.checkBlockSize(blockSize);
            if (blockSize.length > 3) {
                throw new IllegalArgumentException(
                        "blockSize must have at most 3 entries (1D, 2D or 3D), got "
                                + Arrays.toString(blockSize));
            }
        }
        if (gammaMode == null || scaleMode == null || maskSharing == null) {
            throw new IllegalArgumentException(
                    "gammaMode, scaleMode and maskSharing must not be null, got "
                            + gammaMode
                            + ", "
                            + scaleMode
                            + ", "
                            + maskSharing);
        }
        return new MaskSettings(
                blockFraction == null ? blockSize.clone() : null,
                blockFraction == null ? null : blockFraction.clone(),
                gammaMode,
                scaleMode,
                maskSharing);
    }

    /**
     * Checks the rank of an input: 3, 4 or 5, i.e. {@code (N, C)} and 1 to 3 spatial dimensions.
     *
     * @param shape the input's shape
     * @throws IllegalArgumentException naming the rank and the shape when it is not
     */
    public static void checkInputRank(long[] shape) {
        int rank = shape.length;
        if (rank < 3 || rank > 5) {
            throw new IllegalArgumentException(
                    "input must have rank 3, 4 or 5 (N, C, spatial...), got rank "
                            + rank
                            + " with shape "
                            + format(shape));
        }
    }

    /**
     * Checks that the block size fits an input of a valid rank: one entry, or one per spatial
     * dimension.
     *
     * @param shape the input's shape, of rank 3, 4 or 5
     * @throws IllegalArgumentException naming the block size and the shape when it does not fit
     */
    public void checkBlockSizeFits(long[] shape) {
        int spatial = shape.length - 2;
        int entries = blockSize != null ? blockSize.length : blockFraction.length;
        if (entries != 1 && entries != spatial) {
            throw new IllegalArgumentException(
                    (blockSize != null ? "blockSize" : "blockFraction")
                            + " must have 1 entry or one per spatial dimension ("
                            + spatial
                            + " for input shape "
                            + format(shape)
                            + "), got "
                            + (blockSize != null
                                    ? Arrays.toString(blockSize)
                                    : Arrays.toString(blockFraction)));
        }
    }

    /**
     * Returns the geometry of one mask over an input: its spatial sizes and the block applied to
     * them, the block size clipped to them or the fraction of them.
     *
     * @param channelsFirstShape the input's shape {@code (N, C, spatial...)}, checked with {@link
     *     #checkInputRank(long[])} and {@link #checkBlockSizeFits(long[])}
     * @return the geometry
     * @throws ArithmeticException if a spatial size does not fit an int
     */
    public BlockGeometry geometry(long[] channelsFirstShape) {
        int[] spatial = new int[channelsFirstShape.length - 2];
        for (int i = 0; i < spatial.length; i++) {
            spatial[i] = Math.toIntExact(channelsFirstShape[i + 2]);
        }
        return blockSize != null
                ? BlockGeometry.of(spatial, blockSize)
                : BlockGeometry.ofFraction(spatial, blockFraction);
    }

    /**
     * Returns the seed probability for a geometry and drop probability, as {@link #gammaMode()}
     * derives it ({@link DropBlockGamma}).
     *
     * @param geometry the mask's geometry
     * @param dropProb the drop probability, in [0, 1)
     * @return gamma, in [0, 1]
     * @throws IllegalArgumentException if {@code dropProb} is out of range
     */
    public double gamma(BlockGeometry geometry, double dropProb) {
        return DropBlockGamma.gamma(geometry, dropProb, gammaMode);
    }

    /**
     * Returns the shape of the masks for an input, as {@link #maskSharing()} says; the masks
     * broadcast against the input.
     *
     * @param channelsFirstShape the input's shape {@code (N, C, spatial...)}
     * @return the masks' shape, a new array
     * @throws IllegalArgumentException naming the shape if the masks would have more than {@code
     *     Integer.MAX_VALUE} units, which int-indexed buffers cannot hold
     */
    public long[] maskShape(long[] channelsFirstShape) {
        long[] maskShape = maskSharing.maskShape(channelsFirstShape);
        long units = 1;
        for (long s : maskShape) {
            units *= s;
        }
        if (units > MAX_MASK_UNITS) {
            throw new IllegalArgumentException(
                    "mask must have at most "
                            + MAX_MASK_UNITS
                            + " units, got "
                            + units
                            + " for shape "
                            + format(maskShape));
        }
        return maskShape;
    }

    /**
     * Returns the block size: one entry for every spatial dimension, or one per dimension.
     *
     * @return a copy of the block size, or null when the block is a fraction of the map ({@link
     *     #blockFraction()})
     */
    public int[] blockSize() {
        return blockSize == null ? null : blockSize.clone();
    }

    /**
     * Returns the block size as a fraction of each spatial dimension of the map: one entry for
     * every spatial dimension, or one per dimension.
     *
     * @return a copy of the fraction, or null when the block size is in units ({@link
     *     #blockSize()})
     */
    public double[] blockFraction() {
        return blockFraction == null ? null : blockFraction.clone();
    }

    /**
     * Returns how gamma is derived from the drop probability.
     *
     * @return the gamma mode
     */
    public GammaMode gammaMode() {
        return gammaMode;
    }

    /**
     * Returns how kept units are scaled.
     *
     * @return the scale mode
     */
    public ScaleMode scaleMode() {
        return scaleMode;
    }

    /**
     * Returns which units share a mask.
     *
     * @return the mask sharing
     */
    public MaskSharing maskSharing() {
        return maskSharing;
    }

    /**
     * Returns a copy with another block size, in units; it replaces a block fraction.
     *
     * @param perSpatialDim one block size per spatial dimension, or a single one for all
     * @return the copy
     * @throws IllegalArgumentException if the block size is not valid
     */
    public MaskSettings withBlockSize(int... perSpatialDim) {
        return of(perSpatialDim, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns a copy whose block is a fraction of each spatial dimension of the map; it replaces a
     * block size in units.
     *
     * @param perSpatialDim one fraction per spatial dimension, or a single one for all; each in (0,
     *     1]
     * @return the copy
     * @throws IllegalArgumentException if the fraction is not valid
     */
    public MaskSettings withBlockFraction(double... perSpatialDim) {
        BlockGeometry.checkBlockFraction(perSpatialDim);
        return of(null, perSpatialDim, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns a copy with another gamma mode.
     *
     * @param gammaMode the gamma mode
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public MaskSettings withGammaMode(GammaMode gammaMode) {
        return of(blockSize, blockFraction, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns a copy with another scale mode.
     *
     * @param scaleMode the scale mode
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public MaskSettings withScaleMode(ScaleMode scaleMode) {
        return of(blockSize, blockFraction, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns a copy with another mask sharing.
     *
     * @param maskSharing the mask sharing
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public MaskSettings withMaskSharing(MaskSharing maskSharing) {
        return of(blockSize, blockFraction, gammaMode, scaleMode, maskSharing);
    }

    /**
     * Returns the block setting as the blocks' {@code toString} shows it: {@code blockSize=[7]}, or
     * {@code blockFraction=[0.25]} when the block is a fraction of the map.
     *
     * @return the block size or fraction, named
     */
    public String blockToString() {
        return blockSize != null
                ? "blockSize=" + Arrays.toString(blockSize)
                : "blockFraction=" + Arrays.toString(blockFraction);
    }

    // As DJL's Shape prints: (2, 3, 7, 7).
    private static String format(long[] shape) {
        return Arrays.stream(shape)
                .mapToObj(Long::toString)
                .collect(Collectors.joining(", ", "(", ")"));
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        return o instanceof MaskSettings other
                && Arrays.equals(blockSize, other.blockSize)
                && Arrays.equals(blockFraction, other.blockFraction)
                && gammaMode == other.gammaMode
                && scaleMode == other.scaleMode
                && maskSharing == other.maskSharing;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return 31
                        * (31 * Objects.hash(gammaMode, scaleMode, maskSharing)
                                + Arrays.hashCode(blockSize))
                + Arrays.hashCode(blockFraction);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "MaskSettings("
                + blockToString()
                + ", gammaMode="
                + gammaMode
                + ", scaleMode="
                + scaleMode
                + ", maskSharing="
                + maskSharing
                + ")";
    }
}
