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
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * DropBlock (Ghiasi, Lin and Le, "DropBlock: A regularization method for convolutional networks",
 * NeurIPS 2018, arXiv 1810.12890): during training, zeroes contiguous blocks of a feature map
 * instead of single units, and rescales what is kept.
 *
 * <p>Accepts (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs, i.e. DropBlock 1D, 2D and 3D, and
 * returns an array of the same shape and data type. Seeds are Bernoulli(gamma) draws over the
 * positions where a whole block fits; a seed at {@code s} zeroes {@code [s, s + block)} in every
 * spatial dimension, so even block sizes and rectangular maps work, and a block larger than the map
 * is clipped to it. The block is given in units ({@link Builder#optBlockSize(int...)}) or as a
 * fraction of each dimension of the map at hand ({@link Builder#optBlockFraction(double...)}), and
 * gamma is derived from the block actually applied. With {@link GammaMode#CALIBRATED} (the default)
 * gamma is solved so that the expected fraction of dropped units equals {@link #getDropProb()}
 * exactly; see {@link DropBlockGamma}. Kept units are scaled as {@link ScaleMode} says, by {@code
 * count(M) / count_ones(M)} by default, and each channel of each sample draws its own mask by
 * default (Algorithm 1 of the paper). The mask is a constant for autograd: {@code dL/dx = dL/dy *
 * mask * scale}. Not training, or a drop probability of 0, returns the input itself. NaN and
 * infinities propagate as in PyTorch's dropout: the output is {@code input * mask * scale}, so a
 * dropped NaN stays NaN and a dropped infinity becomes NaN; finite input stays finite unless {@code
 * |input| * scale} exceeds the data type's range.
 *
 * <p>Cost: on the CPU the seeds are drawn on the host (geometric gaps between them, O(seeds)) and
 * the scaled mask is written once, straight into the engine's memory, so a forward costs about a
 * multiplication by a ready mask plus one pass over the mask; backward keeps only the mask, one
 * unit of the input's data type per masked unit. On other devices, or with {@link
 * Builder#optEngineMask(boolean)}, the mask is built from engine operators instead (a uniform draw
 * over the valid region, zero padding and stride-1 max pools), with the same distribution.
 *
 * <p>Every training forward counts the units it saw and zeroed, the realised drop rate, for {@link
 * #takeDropCount()}: for free where the mask is painted on the host, and, where it is drawn with
 * engine operators, only while {@link #setDropCounting(boolean)} is on, which reads a count back
 * from the device. {@link DropBlockScheduler} turns it on when the trainer collects metrics.
 *
 * <p>Saved with the model (encoding {@code VERSION} 2): the drop probability and the mask settings
 * (block size or fraction, gamma, scale, sharing), which loading restores; version 1, the drop
 * probability alone, still loads.
 *
 * <p>Thread safety: forwards may run concurrently; each draws its own mask from the engine's random
 * generator. The drop probability is a volatile field, so a {@link #setDropProb(float)} from a
 * scheduler is seen by every forward that starts after it returns; a forward that has already
 * started uses the value it read at its start.
 */
public final class DropBlock extends AbstractBlock implements MaskSettings.Holder {

    private static final byte VERSION = 2;
    // The first encoding: input shapes and the drop probability, without the mask settings.
    private static final byte VERSION_DROP_PROB_ONLY = 1;
    // How the block is encoded in VERSION 2: in units or as a fraction of the map.
    private static final byte BLOCK_SIZE = 0;
    private static final byte BLOCK_FRACTION = 1;

    // Final but for loadMetadata, which restores the saved settings.
    private volatile MaskSettings mask;
    private final boolean engineMask;
    private final float scheduleWeight;
    private volatile float dropProb;
    private volatile boolean dropCounting;
    // What training forwards saw and zeroed since the last takeDropCount().
    private final LongAdder unitsSeen = new LongAdder();
    private final LongAdder unitsDropped = new LongAdder();

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
        return dropBlock(input, dropProb, MaskSettings.of(blockSize), training, false, null);
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
        return dropBlock(input, dropProb, mask, training, false, null);
    }

    /**
     * The functional core; {@code counter}, the block or null, counts what a training forward saw
     * and zeroed.
     */
    private static NDArray dropBlock(
            NDArray input,
            float dropProb,
            MaskSettings settings,
            boolean training,
            boolean engineMask,
            DropBlock counter) {
        DropBlockGamma.checkDropProb(dropProb);
        long[] shape = input.getShape().getShape();
        MaskSettings.checkInputRank(shape);
        checkDataType(input.getDataType());
        settings.checkBlockSizeFits(shape);
        long units = input.getShape().size();
        if (!training || dropProb == 0 || units == 0) {
            if (training && counter != null) {
                counter.unitsSeen.add(units);
            }
            return input;
        }
        BlockGeometry geometry = settings.geometry(shape);
        Shape maskShape = new Shape(settings.maskShape(shape));
        DropBlockMask.Sample sample =
                DropBlockMask.sample(
                        input.getManager(),
                        maskShape,
                        geometry,
                        settings.gamma(geometry, dropProb),
                        settings.scaleMode(),
                        dropProb,
                        input.getDataType(),
                        engineMask,
                        counter != null && counter.dropCounting);
        if (counter != null && sample.dropped() >= 0) {
            // A shared mask broadcasts over the input: each of its units stands for as many.
            counter.unitsSeen.add(units);
            counter.unitsDropped.add(sample.dropped() * (units / maskShape.size()));
        }
        try (NDArray mask = sample.mask()) {
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
     * Returns the units the training forwards saw and zeroed since the last call, and starts
     * counting afresh: the realised drop rate of those forwards is its {@link DropCount#rate()}.
     * Forwards that drew their mask with engine operators while {@link #isDropCounting()} was off
     * are not in it. Exact when no forward runs during the call.
     *
     * @return the counts since the last call
     */
    public DropCount takeDropCount() {
        long dropped = unitsDropped.sumThenReset();
        long units = unitsSeen.sumThenReset();
        // A forward between the two reads may have added its drops but not its units yet.
        return new DropCount(Math.max(units, dropped), dropped);
    }

    /**
     * Sets whether forwards that draw the mask with engine operators (off the CPU, or with {@link
     * Builder#optEngineMask(boolean)}) count the units they zero, which reads a number back from
     * the device at every such forward. Masks painted on the host are counted regardless, for free.
     * Off by default; {@link DropBlockScheduler} turns it on while the trainer collects metrics.
     *
     * @param dropCounting whether engine-drawn masks are counted
     */
    public void setDropCounting(boolean dropCounting) {
        this.dropCounting = dropCounting;
    }

    /**
     * Returns whether forwards that draw the mask with engine operators count the units they zero.
     *
     * @return whether engine-drawn masks are counted
     */
    public boolean isDropCounting() {
        return dropCounting;
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
        NDArray output = dropBlock(input, dropProb, mask, training, engineMask, this);
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
        MaskSettings settings = mask;
        int[] blockSize = settings.blockSize();
        if (blockSize != null) {
            os.writeByte(BLOCK_SIZE);
            os.writeInt(blockSize.length);
            for (int b : blockSize) {
                os.writeInt(b);
            }
        } else {
            double[] blockFraction = settings.blockFraction();
            os.writeByte(BLOCK_FRACTION);
            os.writeInt(blockFraction.length);
            for (double f : blockFraction) {
                os.writeDouble(f);
            }
        }
        os.writeUTF(settings.gammaMode().name());
        os.writeUTF(settings.scaleMode().name());
        os.writeUTF(settings.maskSharing().name());
    }

    /** {@inheritDoc} */
    @Override
    public void loadMetadata(byte loadVersion, DataInputStream is)
            throws IOException, MalformedModelException {
        if (loadVersion != VERSION && loadVersion != VERSION_DROP_PROB_ONLY) {
            throw new MalformedModelException(
                    "Unsupported DropBlock encoding version: expected "
                            + VERSION_DROP_PROB_ONLY
                            + " or "
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
        MaskSettings savedMask = loadVersion == VERSION ? readMaskSettings(is) : mask;
        dropProb = saved;
        mask = savedMask;
    }

    private static MaskSettings readMaskSettings(DataInputStream is)
            throws IOException, MalformedModelException {
        byte kind = is.readByte();
        int entries = is.readInt();
        if (kind != BLOCK_SIZE && kind != BLOCK_FRACTION || entries < 1 || entries > 3) {
            throw new MalformedModelException(
                    "DropBlock block in the saved model must be a size or a fraction of 1 to 3"
                            + " entries, got kind "
                            + kind
                            + " with "
                            + entries
                            + " entries");
        }
        int[] blockSize = kind == BLOCK_SIZE ? new int[entries] : null;
        double[] blockFraction = kind == BLOCK_FRACTION ? new double[entries] : null;
        for (int i = 0; i < entries; i++) {
            if (blockSize != null) {
                blockSize[i] = is.readInt();
            } else {
                blockFraction[i] = is.readDouble();
            }
        }
        try {
            return MaskSettings.of(
                    blockSize,
                    blockFraction,
                    GammaMode.valueOf(is.readUTF()),
                    ScaleMode.valueOf(is.readUTF()),
                    MaskSharing.valueOf(is.readUTF()));
        } catch (IllegalArgumentException e) {
            throw new MalformedModelException(
                    "DropBlock mask settings in the saved model are not valid: " + e.getMessage(),
                    e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        MaskSettings settings = mask;
        return "DropBlock(dropProb="
                + dropProb
                + ", "
                + settings.blockToString()
                + ", gammaMode="
                + settings.gammaMode()
                + ", scaleMode="
                + settings.scaleMode()
                + ", maskSharing="
                + settings.maskSharing()
                + (engineMask ? ", engineMask=true" : "")
                + ")";
    }

    /** The builder of a {@link DropBlock}. Defaults are the paper's best settings. */
    public static final class Builder {

        private int[] blockSize = {7};
        private boolean blockSizeSet;
        private double[] blockFraction;
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
            blockSizeSet = true;
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
            blockSizeSet = true;
            return this;
        }

        /**
         * Sets the block size as a fraction of each spatial dimension of the feature map each
         * forward sees: {@code round(fraction * size)}, rounded half up, at least 1 and at most the
         * map (0.25 gives 7 on 28x28, 4 on 14x14, 2 on 7x7), so one block serves maps of every
         * size; gamma uses the size applied. Defaults to none: the block size 7. Exclusive with
         * {@link #optBlockSize(int...)}.
         *
         * @param perSpatialDim one fraction for every spatial dimension, or one per dimension; each
         *     in (0, 1]
         * @return this builder
         */
        public Builder optBlockFraction(double... perSpatialDim) {
            this.blockFraction = perSpatialDim == null ? null : perSpatialDim.clone();
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
            // A fraction replaces the default size, not one that was set: MaskSettings refuses
            // both.
            int[] size = blockFraction != null && !blockSizeSet ? null : blockSize;
            MaskSettings mask =
                    MaskSettings.of(size, blockFraction, gammaMode, scaleMode, maskSharing);
            if (!(scheduleWeight >= 0 && scheduleWeight <= 1)) {
                throw new IllegalArgumentException(
                        "scheduleWeight must be in [0, 1], got " + scheduleWeight);
            }
            return new DropBlock(this, mask);
        }
    }
}
