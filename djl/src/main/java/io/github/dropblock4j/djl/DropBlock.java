package io.github.dropblock4j.djl;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * DropBlock (Ghiasi, Lin and Le, "DropBlock: A regularization method for convolutional networks",
 * NeurIPS 2018, arXiv 1810.12890): during training, zeroes contiguous blocks of a feature map
 * instead of single units, and rescales what is kept.
 *
 * <p>Accepts (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs, i.e. DropBlock 1D, 2D and 3D, and
 * returns an array of the same shape and data type. Seeds are Bernoulli(gamma) draws over the
 * positions where a whole block fits; a seed at {@code s} zeroes {@code [s, s + block)} in every
 * spatial dimension, so even block sizes and rectangular maps work, and a block larger than the map
 * is clipped to it. With {@link GammaMode#CALIBRATED} (the default) gamma is solved so that the
 * expected fraction of dropped units equals {@link #getDropProb()} exactly; see {@link
 * DropBlockGamma}. Kept units are scaled as {@link ScaleMode} says, by {@code count(M) /
 * count_ones(M)} by default, and each channel of each sample draws its own mask by default
 * (Algorithm 1 of the paper). The mask is a constant for autograd: {@code dL/dx = dL/dy * mask *
 * scale}. Not training, or a drop probability of 0, returns the input itself. NaN and infinities
 * propagate as in PyTorch's dropout: the output is {@code input * mask * scale}, so a dropped NaN
 * stays NaN and a dropped infinity becomes NaN; finite input stays finite unless {@code |input| *
 * scale} exceeds the data type's range.
 *
 * <p>Cost: on the CPU the seeds are drawn on the host (geometric gaps between them, O(seeds)) and
 * the scaled mask is written once, straight into the engine's memory, so a forward costs about a
 * multiplication by a ready mask plus one pass over the mask; backward keeps only the mask, one
 * unit of the input's data type per masked unit. On other devices, or with {@link
 * Builder#optEngineMask(boolean)}, the mask is built from engine operators instead (a uniform draw
 * over the valid region, zero padding and stride-1 max pools), with the same distribution.
 *
 * <p>Thread safety: forwards may run concurrently; each draws its own mask from the engine's random
 * generator. The drop probability is a volatile field, so a {@link #setDropProb(float)} from a
 * scheduler is seen by every forward that starts after it returns; a forward that has already
 * started uses the value it read at its start.
 */
public final class DropBlock extends AbstractBlock implements MaskSettings.Holder {

    private static final byte VERSION = 1;

    private final MaskSettings mask;
    private final boolean engineMask;
    private final float scheduleWeight;
    private volatile float dropProb;

    DropBlock(Builder builder, MaskSettings mask) {
        super(VERSION);
        this.mask = mask;
        engineMask = builder.engineMask;
        scheduleWeight = builder.scheduleWeight;
        dropProb = builder.dropProb;
    }

    /**
     * Creates a builder to build a {@link DropBlock}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Applies DropBlock with the default gamma, scale and mask sharing ({@link
     * GammaMode#CALIBRATED}, {@link ScaleMode#BATCH}, {@link MaskSharing#PER_CHANNEL}).
     *
     * @param input an (N, C, L), (N, C, H, W) or (N, C, D, H, W) floating-point array
     * @param dropProb the expected fraction of units to drop, {@code 1 - keep_prob}, in [0, 1)
     * @param blockSize the block size in every spatial dimension, at least 1
     * @param training whether to drop; when false the input itself is returned
     * @return the output, of the input's shape and data type
     * @throws IllegalArgumentException if an argument, the input's rank or its data type is not
     *     valid
     */
    public static NDArray dropBlock(
            NDArray input, float dropProb, int blockSize, boolean training) {
        return dropBlock(input, dropProb, MaskSettings.of(blockSize), training, false);
    }

    /**
     * Applies DropBlock.
     *
     * @param input an (N, C, L), (N, C, H, W) or (N, C, D, H, W) floating-point array
     * @param dropProb the expected fraction of units to drop, {@code 1 - keep_prob}, in [0, 1)
     * @param blockSize one block size for every spatial dimension, or one per spatial dimension;
     *     each at least 1, clipped to the feature map
     * @param gammaMode how the seed probability is derived
     * @param scaleMode how kept units are scaled
     * @param maskSharing which units share a mask
     * @param training whether to drop; when false the input itself is returned
     * @return the output, of the input's shape and data type
     * @throws IllegalArgumentException if an argument, the input's rank or its data type is not
     *     valid
     */
    public static NDArray dropBlock(
            NDArray input,
            float dropProb,
            int[] blockSize,
            GammaMode gammaMode,
            ScaleMode scaleMode,
            MaskSharing maskSharing,
            boolean training) {
        MaskSettings mask = MaskSettings.of(blockSize, gammaMode, scaleMode, maskSharing);
        return dropBlock(input, dropProb, mask, training, false);
    }

    private static NDArray dropBlock(
            NDArray input,
            float dropProb,
            MaskSettings settings,
            boolean training,
            boolean engineMask) {
        DropBlockGamma.checkDropProb(dropProb);
        long[] shape = input.getShape().getShape();
        MaskSettings.checkInputRank(shape);
        checkDataType(input.getDataType());
        settings.checkBlockSizeFits(shape);
        if (!training || dropProb == 0 || input.getShape().size() == 0) {
            return input;
        }
        BlockGeometry geometry = settings.geometry(shape);
        try (NDArray mask =
                DropBlockMask.sample(
                        input.getManager(),
                        new Shape(settings.maskShape(shape)),
                        geometry,
                        settings.gamma(geometry, dropProb),
                        settings.scaleMode(),
                        dropProb,
                        input.getDataType(),
                        engineMask)) {
            // The autograd graph keeps its own reference to the mask; closing ours frees it as
            // soon as backward is done with it.
            NDArray output = input.mul(mask);
            // A float16 input whose scale overflows float16 gets a float32 mask (DropBlockMask).
            return output.getDataType() == input.getDataType()
                    ? output
                    : output.toType(input.getDataType(), false);
        }
    }

    private static void checkDataType(DataType dataType) {
        // Exactly these three: DJL also calls bfloat16 and complex64 floating, and casting a
        // mask to bfloat16 aborts the JVM in DJL 0.36's PyTorch engine.
        if (dataType != DataType.FLOAT16
                && dataType != DataType.FLOAT32
                && dataType != DataType.FLOAT64) {
            throw new IllegalArgumentException(
                    "input must have a floating-point data type (float16, float32, float64), got "
                            + dataType);
        }
    }

    /**
     * Returns the drop probability, {@code 1 - keep_prob}: the expected fraction of units dropped
     * in training.
     *
     * @return the drop probability, in [0, 1)
     */
    public float getDropProb() {
        return dropProb;
    }

    /**
     * Sets the drop probability, as a {@link DropBlockScheduler} does at every training step.
     *
     * @param dropProb the expected fraction of units to drop, in [0, 1)
     * @throws IllegalArgumentException if it is NaN or out of range
     */
    public void setDropProb(float dropProb) {
        DropBlockGamma.checkDropProb(dropProb);
        this.dropProb = dropProb;
    }

    /** {@inheritDoc} */
    @Override
    public MaskSettings getMaskSettings() {
        return mask;
    }

    /**
     * Returns whether the mask is drawn with engine operators on every device, instead of being
     * painted on the host for CPU arrays.
     *
     * @return whether the engine path is forced
     */
    public boolean isEngineMask() {
        return engineMask;
    }

    /**
     * Returns the factor a {@link DropBlockScheduler} multiplies its scheduled drop probability by
     * for this block, e.g. {@code 1 / 4^(S - g)} in stage {@code g} of {@code S} of a ResNet with
     * per-stage scaling.
     *
     * @return the schedule weight, in [0, 1]
     */
    public float getScheduleWeight() {
        return scheduleWeight;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray input = inputs.singletonOrThrow();
        NDArray output = dropBlock(input, dropProb, mask, training, engineMask);
        return output == input ? inputs : new NDList(output);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** {@inheritDoc} */
    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        saveInputShapes(os);
        os.writeFloat(dropProb);
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        if (loadVersion != VERSION) {
            throw new MalformedModelException(
                    "Unsupported DropBlock encoding version: expected "
                            + VERSION
                            + ", got "
                            + loadVersion);
        }
        readInputShapes(is);
        float saved = is.readFloat();
        if (!(saved >= 0 && saved < 1)) {
            throw new MalformedModelException(
                    "DropBlock dropProb in the saved model must be in [0, 1), got " + saved);
        }
        dropProb = saved;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "DropBlock(dropProb="
                + dropProb
                + ", blockSize="
                + Arrays.toString(mask.blockSize())
                + ", gammaMode="
                + mask.gammaMode()
                + ", scaleMode="
                + mask.scaleMode()
                + ", maskSharing="
                + mask.maskSharing()
                + (engineMask ? ", engineMask=true" : "")
                + ")";
    }

    /** The builder of a {@link DropBlock}. Defaults are the paper's best settings. */
    public static final class Builder {

        private int[] blockSize = {7};
        private float dropProb = 0.1f;
        private GammaMode gammaMode = GammaMode.CALIBRATED;
        private ScaleMode scaleMode = ScaleMode.BATCH;
        private MaskSharing maskSharing = MaskSharing.PER_CHANNEL;
        private boolean engineMask;
        private float scheduleWeight = 1f;

        Builder() {}

        /**
         * Sets the block size in every spatial dimension. Defaults to 7, the paper's best on
         * ResNet-50. Clipped to the feature map at each forward.
         *
         * @param blockSize the block size, at least 1
         * @return this builder
         */
        public Builder optBlockSize(int blockSize) {
            this.blockSize = new int[] {blockSize};
            return this;
        }

        /**
         * Sets the block size per spatial dimension, e.g. {@code (height, width)}. Defaults to 7 in
         * every dimension.
         *
         * @param perSpatialDim one block size per spatial dimension, each at least 1
         * @return this builder
         */
        public Builder optBlockSize(int... perSpatialDim) {
            this.blockSize = perSpatialDim == null ? null : perSpatialDim.clone();
            return this;
        }

        /**
         * Sets the drop probability, {@code 1 - keep_prob}. Defaults to 0.1 (keep_prob 0.9).
         *
         * @param dropProb the expected fraction of units to drop, in [0, 1)
         * @return this builder
         */
        public Builder optDropProb(float dropProb) {
            this.dropProb = dropProb;
            return this;
        }

        /**
         * Sets how gamma is derived. Defaults to {@link GammaMode#CALIBRATED}.
         *
         * @param gammaMode the gamma mode
         * @return this builder
         */
        public Builder optGammaMode(GammaMode gammaMode) {
            this.gammaMode = gammaMode;
            return this;
        }

        /**
         * Sets how kept units are scaled. Defaults to {@link ScaleMode#BATCH}.
         *
         * @param scaleMode the scale mode
         * @return this builder
         */
        public Builder optScaleMode(ScaleMode scaleMode) {
            this.scaleMode = scaleMode;
            return this;
        }

        /**
         * Sets which units share a mask. Defaults to {@link MaskSharing#PER_CHANNEL}.
         *
         * @param maskSharing the mask sharing
         * @return this builder
         */
        public Builder optMaskSharing(MaskSharing maskSharing) {
            this.maskSharing = maskSharing;
            return this;
        }

        /**
         * Sets whether the mask is drawn with engine operators on every device. Defaults to false:
         * on the CPU, with an engine whose {@code toByteBuffer(true)} is a view of the array
         * (PyTorch), the seeds are drawn on the host and the blocks painted straight into the mask,
         * which costs about one pass over the mask; elsewhere (GPU, other engines) the mask is
         * drawn with engine operators, a uniform draw per valid position, a padding and a stride-1
         * max pool. Both give masks of the same distribution; true forces the engine operators on
         * the CPU too, for testing or comparison.
         *
         * @param engineMask whether to draw the mask with engine operators on every device
         * @return this builder
         */
        public Builder optEngineMask(boolean engineMask) {
            this.engineMask = engineMask;
            return this;
        }

        /**
         * Sets the factor a {@link DropBlockScheduler} multiplies its scheduled drop probability by
         * for this block. Defaults to 1.
         *
         * @param scheduleWeight the weight, in [0, 1]
         * @return this builder
         */
        public Builder optScheduleWeight(float scheduleWeight) {
            this.scheduleWeight = scheduleWeight;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return the {@link DropBlock}
         * @throws IllegalArgumentException if an option is not valid
         */
        public DropBlock build() {
            DropBlockGamma.checkDropProb(dropProb);
            MaskSettings mask = MaskSettings.of(blockSize, gammaMode, scaleMode, maskSharing);
            if (!(scheduleWeight >= 0 && scheduleWeight <= 1)) {
                throw new IllegalArgumentException(
                        "scheduleWeight must be in [0, 1], got " + scheduleWeight);
            }
            return new DropBlock(this, mask);
        }
    }
}
