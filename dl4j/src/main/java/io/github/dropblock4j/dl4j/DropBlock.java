package io.github.dropblock4j.dl4j;

import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.BlockSeeds;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.DropCount;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.CountNonZero;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * DropBlock (Ghiasi, Lin and Le, "DropBlock: A regularization method for convolutional networks",
 * NeurIPS 2018, arXiv 1810.12890) as a Deeplearning4j {@link IDropout}: during training, zeroes
 * contiguous blocks of a feature map instead of single units, and rescales what is kept.
 *
 * <p>As in DL4J's {@code Dropout} and {@code SpatialDropout} and the paper's {@code keep_prob}, the
 * probability is the probability of <em>keeping</em> a unit: {@code new DropBlock(0.9, 7)} drops
 * 10% of the units in blocks of 7 x 7. Use it as a layer's dropout, {@code .dropOut(new
 * DropBlock(0.9, 7))} on a convolution layer (DL4J applies a layer's dropout to that layer's
 * input), or in a {@code DropoutLayer} after a {@code BatchNormalization}, the paper's placement;
 * {@link DropoutPlacement} reports the layers where DL4J would silently ignore it.
 *
 * <p>The semantics are those of the DJL block, from {@code dropblock4j-core}: activations of rank
 * 3, 4 or 5 with channels in dimension 1 (NCW, NCHW, NCDHW; {@link #withChannelsLast(boolean)} for
 * NWC, NHWC, NDHWC), seeds drawn as Bernoulli(gamma) only where a whole block fits, a seed at
 * {@code s} zeroing {@code [s, s + block)} in every spatial dimension, the block clipped to the
 * feature map per dimension. With {@link GammaMode#CALIBRATED} (the default) gamma solves {@code
 * mean_x(1 - (1 - gamma)^k(x)) = 1 - keep_prob}, so the expected fraction of dropped units is
 * exactly {@code 1 - keep_prob} ({@link DropBlockGamma}); {@link GammaMode#PAPER} is equation (1)
 * of the paper, {@code gamma = (1 - keep_prob) / block^2 * feat^2 / (feat - block + 1)^2}. Kept
 * units are multiplied by {@code count(M) / count_ones(M)} ({@link ScaleMode#BATCH}, the default; 0
 * when nothing is kept), and every channel of every sample draws its own mask ({@link
 * MaskSharing#PER_CHANNEL}, Algorithm 1 of the paper).
 *
 * <p>Evaluation is the identity: DL4J calls a dropout only in training. A keep probability of 1
 * passes the input through. The gradient is {@code dL/dx = dL/dy * mask * scale}, with the mask of
 * the forward. On {@code nd4j-native} the mask is drawn on the host ({@link BlockSeeds}: geometric
 * gaps between seeds, one random draw per seed) and written once, scale and zeros together,
 * straight into ND4J's memory, in the workspace DL4J gives a dropout for it ({@link
 * ArrayType#INPUT}, as {@code SpatialDropout} does), so it lives until the layer's backward and is
 * reused with the workspace. On any other backend (CUDA), whose arrays the host cannot write in
 * place, or with {@link #withEngineMask(boolean)}, the mask is built from ND4J operations with the
 * same distribution: a Bernoulli(gamma) draw over the valid region, each seed grown into its block
 * by a running maximum along each spatial dimension, and the scale computed on the device. Either
 * generator is seeded from ND4J's, so {@code Nd4j.getRandom().setSeed(s)} reproduces the masks.
 * float32 activations get a float32 mask; float64 a float64 mask with the exact scale; float16 and
 * bfloat16 keep a float32 mask, so that a scale above float16's range does not overflow before the
 * product.
 *
 * <p>The block is given in units ({@link #withBlockSize(int...)}) or as a fraction of each spatial
 * dimension of the map at hand ({@link #withBlockFraction(double...)}), and gamma is derived from
 * the block actually applied. Every training forward counts the units it saw and zeroed, the
 * realised drop rate, for {@link #takeDropCount()}: on the host path for free, on the ND4J path as
 * a count kept on the device until it is read.
 *
 * <p>DropBlock never writes into its input, even when DL4J offers the input as the result array: in
 * a {@code ComputationGraph} the last consumer of a shared activation (an identity shortcut) gets
 * it for in-place use, while another consumer (the residual branch's convolution) still needs it
 * for its backward; writing into it corrupts that convolution's weight gradient. The output is a
 * new array in the same workspace; the cost is memory, not time.
 *
 * <p>Layouts: DL4J's {@code ConvolutionLayer} with {@code CNN2DFormat.NHWC} applies its dropout to
 * the NHWC input but back-propagates it through an NCHW gradient, and {@code Convolution1DLayer},
 * {@code Convolution3D} and {@code Deconvolution2D} apply it in the forward but never to the
 * gradient. In NHWC networks put DropBlock in a {@code DropoutLayer} with {@code
 * withChannelsLast(true)}: a {@code DropoutLayer} sees the same layout both ways. {@link #backprop}
 * rejects a gradient whose shape differs from the forward's input; the one case it cannot see, an
 * NHWC map with as many channels as rows and columns, {@link DropoutPlacement} reports from the
 * configuration.
 *
 * <p>Not thread safe, like DL4J's own dropouts: an instance holds the mask of its layer's last
 * forward until the backward. DL4J clones the configured dropout for every layer; {@link #clone()}
 * shares no mask. Equality and hash code cover the configuration, not the mask.
 */
public final class DropBlock implements IDropout, MaskSettings.Holder {

    private static final long serialVersionUID = 1L;

    /** The fixed keep probability, in (0, 1]; NaN when {@link #keepProbSchedule} gives it. */
    @JsonProperty private final double keepProb;

    /** The schedule of the keep probability, or null when it is fixed. */
    @JsonProperty private final ISchedule keepProbSchedule;

    /** One block size for every spatial dimension, or one per dimension; null with a fraction. */
    @JsonProperty private final int[] blockSize;

    /** The block as a fraction of each spatial dimension of the map; null with a block size. */
    @JsonProperty private final double[] blockFraction;

    /** How gamma is derived from the drop probability. */
    @JsonProperty private final GammaMode gammaMode;

    /** How kept units are scaled. */
    @JsonProperty private final ScaleMode scaleMode;

    /** Which units share a mask. */
    @JsonProperty private final MaskSharing maskSharing;

    /** Whether the channels are the last dimension of the activations. */
    @JsonProperty private final boolean channelsLast;

    /** Whether the mask is built from ND4J operations on every backend. */
    @JsonProperty private final boolean engineMask;

    // The block size and the three modes above, checked; the fields are their serialised form
    // (DL4J's JSON mapper and Java serialisation read fields), rebuilt by every constructor.
    private final transient MaskSettings mask;

    // What the last training forward left for the backward; null before it and after backward.
    private transient Forward forward;

    // What training forwards saw and zeroed since the last takeDropCount(); the ND4J path's
    // kept units stay on the device, detached from every workspace, until they are read.
    private transient long unitsSeen;
    private transient long unitsDropped;
    private transient long unitsOnDevice;
    private transient INDArray keptOnDevice;

    /**
     * Creates a DropBlock with a fixed keep probability and the default gamma, scale and mask
     * sharing ({@link GammaMode#CALIBRATED}, {@link ScaleMode#BATCH}, {@link
     * MaskSharing#PER_CHANNEL}), for channels in dimension 1.
     *
     * @param keepProb the probability of keeping a unit, {@code keep_prob}, in (0, 1]; 0.9 is the
     *     paper's best on ImageNet
     * @param blockSize the block size in every spatial dimension, at least 1; 7 is the paper's best
     *     on ResNet-50
     * @throws IllegalArgumentException if an argument is out of range
     */
    public DropBlock(double keepProb, int blockSize) {
        this(checkKeepProb(keepProb), null, MaskSettings.of(blockSize), false, false);
    }

    /**
     * Creates a DropBlock whose keep probability follows a schedule, such as {@link
     * KeepProbSchedule#linear(double, int)}, with the default gamma, scale and mask sharing.
     *
     * @param keepProbSchedule gives the keep probability at each iteration and epoch; its values
     *     must be in (0, 1]
     * @param blockSize the block size in every spatial dimension, at least 1
     * @throws IllegalArgumentException if the schedule is null or the block size is out of range
     */
    public DropBlock(ISchedule keepProbSchedule, int blockSize) {
        this(
                Double.NaN,
                requireSchedule(keepProbSchedule),
                MaskSettings.of(blockSize),
                false,
                false);
    }

    @JsonCreator
    private DropBlock(
            @JsonProperty("keepProb") double keepProb,
            @JsonProperty("keepProbSchedule") ISchedule keepProbSchedule,
            @JsonProperty("blockSize") int[] blockSize,
            @JsonProperty("blockFraction") double[] blockFraction,
            @JsonProperty("gammaMode") GammaMode gammaMode,
            @JsonProperty("scaleMode") ScaleMode scaleMode,
            @JsonProperty("maskSharing") MaskSharing maskSharing,
            @JsonProperty("channelsLast") boolean channelsLast,
            @JsonProperty("engineMask") boolean engineMask) {
        this(
                keepProbSchedule == null ? checkKeepProb(keepProb) : Double.NaN,
                keepProbSchedule,
                MaskSettings.of(blockSize, blockFraction, gammaMode, scaleMode, maskSharing),
                channelsLast,
                engineMask);
    }

    private DropBlock(
            double keepProb,
            ISchedule keepProbSchedule,
            MaskSettings mask,
            boolean channelsLast,
            boolean engineMask) {
        this.keepProb = keepProb;
        this.keepProbSchedule = keepProbSchedule;
        this.blockSize = mask.blockSize();
        this.blockFraction = mask.blockFraction();
        this.gammaMode = mask.gammaMode();
        this.scaleMode = mask.scaleMode();
        this.maskSharing = mask.maskSharing();
        this.channelsLast = channelsLast;
        this.engineMask = engineMask;
        this.mask = mask;
    }

    /**
     * Checks a keep probability: it must be a number in (0, 1].
     *
     * @param keepProb the probability of keeping a unit
     * @return the keep probability
     * @throws IllegalArgumentException naming the value when it is NaN or out of range
     */
    static double checkKeepProb(double keepProb) {
        if (!(keepProb > 0 && keepProb <= 1)) {
            throw new IllegalArgumentException("keepProb must be in (0, 1], got " + keepProb);
        }
        return keepProb;
    }

    private static ISchedule requireSchedule(ISchedule keepProbSchedule) {
        if (keepProbSchedule == null) {
            throw new IllegalArgumentException("keepProbSchedule must not be null, got null");
        }
        return keepProbSchedule;
    }

    /**
     * Returns a copy with one block size per spatial dimension, e.g. {@code (height, width)}. The
     * constructors' block size applies to every dimension. Replaces a block fraction.
     *
     * @param perSpatialDim one block size per spatial dimension, or a single one for all; each at
     *     least 1, at most 3 entries
     * @return the copy
     * @throws IllegalArgumentException if a block size is out of range
     */
    public DropBlock withBlockSize(int... perSpatialDim) {
        return with(mask.withBlockSize(perSpatialDim));
    }

    /**
     * Returns a copy whose block is a fraction of each spatial dimension of the map each forward
     * sees: {@code round(fraction * size)}, rounded half up, at least 1 and at most the map (0.25
     * gives 7 on 28x28, 4 on 14x14, 2 on 7x7), so one dropout serves maps of every size; gamma uses
     * the size applied. Replaces the block size; the two are exclusive (a JSON configuration with
     * both is refused).
     *
     * @param perSpatialDim one fraction per spatial dimension, or a single one for all; each in (0,
     *     1], at most 3 entries
     * @return the copy
     * @throws IllegalArgumentException if a fraction is out of range
     */
    public DropBlock withBlockFraction(double... perSpatialDim) {
        return with(mask.withBlockFraction(perSpatialDim));
    }

    /**
     * Returns a copy that derives gamma as the given mode says. Defaults to {@link
     * GammaMode#CALIBRATED}.
     *
     * @param gammaMode the gamma mode
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public DropBlock withGamma(GammaMode gammaMode) {
        return with(mask.withGammaMode(gammaMode));
    }

    /**
     * Returns a copy that scales kept units as the given mode says. Defaults to {@link
     * ScaleMode#BATCH}.
     *
     * @param scaleMode the scale mode
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public DropBlock withScale(ScaleMode scaleMode) {
        return with(mask.withScaleMode(scaleMode));
    }

    /**
     * Returns a copy whose units share masks as the given mode says. Defaults to {@link
     * MaskSharing#PER_CHANNEL}.
     *
     * @param maskSharing the mask sharing
     * @return the copy
     * @throws IllegalArgumentException if the mode is null
     */
    public DropBlock withMask(MaskSharing maskSharing) {
        return with(mask.withMaskSharing(maskSharing));
    }

    /**
     * Returns a copy for activations with channels last (NWC, NHWC, NDHWC) or first (NCW, NCHW,
     * NCDHW, the default). In a channels-last network use it in a {@code DropoutLayer}, which
     * back-propagates in the layout it forwards; see the class comment.
     *
     * @param channelsLast whether the channels are the last dimension
     * @return the copy
     */
    public DropBlock withChannelsLast(boolean channelsLast) {
        return new DropBlock(keepProb, keepProbSchedule, mask, channelsLast, engineMask);
    }

    /**
     * Returns a copy that builds its masks from ND4J operations on every backend, instead of
     * painting them on the host on {@code nd4j-native}; both give masks of the same distribution.
     * Defaults to false: the host path on {@code nd4j-native}, the ND4J path elsewhere. True forces
     * the ND4J path on the CPU too, for testing or comparison.
     *
     * @param engineMask whether to build the masks from ND4J operations on every backend
     * @return the copy
     */
    public DropBlock withEngineMask(boolean engineMask) {
        return new DropBlock(keepProb, keepProbSchedule, mask, channelsLast, engineMask);
    }

    private DropBlock with(MaskSettings mask) {
        return new DropBlock(keepProb, keepProbSchedule, mask, channelsLast, engineMask);
    }

    /**
     * Returns the fixed keep probability.
     *
     * @return the keep probability, or NaN when a schedule gives it, as in DL4J's {@code Dropout}
     */
    public double getKeepProb() {
        return keepProb;
    }

    /**
     * Returns the schedule of the keep probability.
     *
     * @return the schedule, or null when the keep probability is fixed
     */
    public ISchedule getKeepProbSchedule() {
        return keepProbSchedule;
    }

    /**
     * Returns the keep probability used at an iteration and epoch.
     *
     * @param iteration the iteration, from 0
     * @param epoch the epoch, from 0
     * @return the fixed keep probability, or the schedule's value
     * @throws IllegalArgumentException if the schedule's value is not in (0, 1]
     */
    public double keepProbAt(int iteration, int epoch) {
        if (keepProbSchedule == null) {
            return keepProb;
        }
        double value = keepProbSchedule.valueAt(iteration, epoch);
        if (!(value > 0 && value <= 1)) {
            throw new IllegalArgumentException(
                    "keepProbSchedule must give a keepProb in (0, 1], got "
                            + value
                            + " at iteration "
                            + iteration
                            + ", epoch "
                            + epoch);
        }
        return value;
    }

    /** {@inheritDoc} */
    @Override
    public MaskSettings getMaskSettings() {
        return mask;
    }

    /**
     * Returns whether the channels are the last dimension of the activations.
     *
     * @return true for NWC, NHWC, NDHWC; false for NCW, NCHW, NCDHW
     */
    public boolean isChannelsLast() {
        return channelsLast;
    }

    /**
     * Returns whether the masks are built from ND4J operations on every backend.
     *
     * @return whether the ND4J path is forced
     */
    public boolean isEngineMask() {
        return engineMask;
    }

    /**
     * Returns the units the training forwards saw and zeroed since the last call, and starts
     * counting afresh: the realised drop rate of those forwards is its {@link DropCount#rate()}. On
     * the ND4J path this reads the count back from the device.
     *
     * @return the counts since the last call
     */
    public DropCount takeDropCount() {
        long units = unitsSeen + unitsOnDevice;
        long dropped = unitsDropped;
        if (keptOnDevice != null) {
            dropped += unitsOnDevice - keptOnDevice.getLong(0);
        }
        unitsSeen = 0;
        unitsDropped = 0;
        unitsOnDevice = 0;
        keptOnDevice = null;
        return new DropCount(units, dropped);
    }

    /**
     * Returns the units zeroed since the last {@link #takeDropCount()} by every DropBlock of a
     * network, each layer's dropout and DropBlock layers alike, and restarts their counts.
     *
     * @param network the network
     * @return the counts summed over its DropBlocks
     */
    public static DropCount takeDropCount(ComputationGraph network) {
        return takeDropCount(dropBlocksIn(network.getLayers()));
    }

    /**
     * Returns the units zeroed since the last {@link #takeDropCount()} by every DropBlock of a
     * network, each layer's dropout and DropBlock layers alike, and restarts their counts.
     *
     * @param network the network
     * @return the counts summed over its DropBlocks
     */
    public static DropCount takeDropCount(MultiLayerNetwork network) {
        return takeDropCount(dropBlocksIn(network.getLayers()));
    }

    private static DropCount takeDropCount(List<DropBlock> dropBlocks) {
        DropCount sum = DropCount.NONE;
        for (DropBlock dropBlock : dropBlocks) {
            sum = sum.plus(dropBlock.takeDropCount());
        }
        return sum;
    }

    /** The DropBlocks the layers apply, as their configurations hold them. */
    private static List<DropBlock> dropBlocksIn(Layer[] layers) {
        List<DropBlock> found = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer.conf().getLayer().getIDropout() instanceof DropBlock dropBlock) {
                found.add(dropBlock);
            }
        }
        return found;
    }

    /**
     * Applies DropBlock for a training forward and keeps the mask for {@link #backprop}.
     *
     * @param inputActivations an activation of rank 3, 4 or 5, floating point
     * @param resultArray an array of the input's shape; used for the output unless it is the input
     *     itself, which DropBlock never writes into
     * @param iteration the current iteration, for the schedule
     * @param epoch the current epoch, for the schedule
     * @param workspaceMgr where the mask and, when needed, the output are created ({@link
     *     ArrayType#INPUT})
     * @return the output, {@code input * mask * scale}; the input itself when the keep probability
     *     is 1 or the input is empty
     * @throws IllegalArgumentException if the input's rank, shape or data type does not fit, or the
     *     schedule's value is out of range
     */
    @Override
    public INDArray applyDropout(
            INDArray inputActivations,
            INDArray resultArray,
            int iteration,
            int epoch,
            LayerWorkspaceMgr workspaceMgr) {
        long[] shape = inputActivations.shape();
        checkInput(shape, resultArray);
        double dropProb = 1.0 - keepProbAt(iteration, epoch);
        forward = null;
        if (dropProb == 0 || inputActivations.length() == 0) {
            forward = new Forward(shape, null);
            unitsSeen += inputActivations.length();
            return inputActivations;
        }
        long[] channelsFirst = channelsLast ? toChannelsFirst(shape) : shape;
        BlockGeometry geometry = mask.geometry(channelsFirst);
        long[] maskShape = mask.maskShape(channelsFirst);
        double gamma = mask.gamma(geometry, dropProb);
        // A shared mask broadcasts over the input: each of its units stands for as many.
        long unitsPerMaskUnit = inputActivations.length() / length(maskShape);
        INDArray sampled =
                engineMask || !Nd4j.getEnvironment().isCPU()
                        ? sampleMaskWithNd4j(
                                maskShape,
                                geometry,
                                gamma,
                                dropProb,
                                resultArray.dataType(),
                                unitsPerMaskUnit,
                                workspaceMgr)
                        : sampleMask(
                                maskShape,
                                geometry,
                                gamma,
                                dropProb,
                                resultArray.dataType(),
                                unitsPerMaskUnit,
                                workspaceMgr);
        INDArray maskView = channelsLast ? toChannelsLast(sampled) : sampled;
        INDArray output =
                resultArray == inputActivations
                        ? workspaceMgr.createUninitialized(
                                ArrayType.INPUT,
                                resultArray.dataType(),
                                shape,
                                resultArray.ordering())
                        : resultArray;
        INDArray input =
                inputActivations.dataType() == output.dataType()
                        ? inputActivations
                        : inputActivations.castTo(output.dataType());
        Nd4j.getExecutioner().exec(new MulOp(input, maskView, output));
        forward = new Forward(shape, maskView);
        return output;
    }

    private void checkInput(long[] shape, INDArray resultArray) {
        MaskSettings.checkInputRank(shape);
        if (!resultArray.dataType().isFPType()) {
            throw new IllegalArgumentException(
                    "resultArray must have a floating-point data type, got "
                            + resultArray.dataType());
        }
        if (!Arrays.equals(shape, resultArray.shape())) {
            throw new IllegalArgumentException(
                    "resultArray must have the input's shape "
                            + Arrays.toString(shape)
                            + ", got "
                            + Arrays.toString(resultArray.shape()));
        }
        mask.checkBlockSizeFits(shape);
    }

    /**
     * Draws the seeds, then writes the mask once into a new float32 array of the workspace: the
     * scale where a unit is kept, 0 inside a block. float64 gets a float64 copy with the exact
     * scale; float16 and bfloat16 keep the float32 mask.
     */
    private INDArray sampleMask(
            long[] maskShape,
            BlockGeometry geometry,
            double gamma,
            double dropProb,
            DataType dataType,
            long unitsPerMaskUnit,
            LayerWorkspaceMgr workspaceMgr) {
        long total = length(maskShape);
        SplittableRandom random = new SplittableRandom(Nd4j.getRandom().nextLong());
        // Count the drops before touching the mask, so that it is written once, scale and zeros
        // together, into memory the workspace has not initialised.
        BlockSeeds seeds = BlockSeeds.draw(total / geometry.area(), geometry, gamma, random);
        unitsSeen += total * unitsPerMaskUnit;
        unitsDropped += seeds.dropped() * unitsPerMaskUnit;
        double scale = mask.scaleMode().scale(total, total - seeds.dropped(), dropProb);
        boolean exact = dataType == DataType.DOUBLE;
        INDArray written =
                workspaceMgr.createUninitialized(ArrayType.INPUT, DataType.FLOAT, maskShape, 'c');
        seeds.write(written.data().asNioFloat(), exact ? 1f : (float) scale);
        if (!exact) {
            return written;
        }
        INDArray typed =
                workspaceMgr.createUninitialized(ArrayType.INPUT, dataType, maskShape, 'c');
        return typed.assign(written).muli(scale);
    }

    /**
     * Builds the mask from ND4J operations, for backends whose memory the host cannot write in
     * place: seeds drawn Bernoulli(gamma) over the valid region, {@code (masks..., valid...)};
     * along each spatial dimension every seed at {@code s} grown to {@code [s, s + block)} by a
     * running maximum of {@code block} shifted copies; {@code mask = 1 - covered}, scaled, the
     * batch scale {@code count(M) / max(1, count_ones(M))} computed on the device. The same
     * distribution as {@link #sampleMask}; every array lives in the {@link ArrayType#INPUT}
     * workspace.
     */
    private INDArray sampleMaskWithNd4j(
            long[] maskShape,
            BlockGeometry geometry,
            double gamma,
            double dropProb,
            DataType dataType,
            long unitsPerMaskUnit,
            LayerWorkspaceMgr workspaceMgr) {
        DataType maskType = dataType == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
        int rank = geometry.rank();
        int first = maskShape.length - rank;
        long[] shape = maskShape.clone();
        for (int d = 0; d < rank; d++) {
            shape[first + d] = geometry.validExtent(d);
        }
        INDArray covered = workspaceMgr.createUninitialized(ArrayType.INPUT, maskType, shape, 'c');
        Nd4j.randomBernoulli(gamma, covered);
        for (int d = 0; d < rank; d++) {
            int block = geometry.block(d);
            if (block == 1) {
                continue;
            }
            long valid = shape[first + d];
            shape[first + d] = geometry.size(d);
            INDArray grown = workspaceMgr.create(ArrayType.INPUT, maskType, shape, 'c');
            for (int k = 0; k < block; k++) {
                // Seeds at s cover s + k: the seeds, shifted by k, into the running maximum.
                INDArray shifted = grown.get(along(maskShape.length, first + d, k, k + valid));
                Transforms.max(shifted, covered, false);
            }
            covered = grown;
        }
        INDArray values = covered.rsubi(1.0);
        long total = length(maskShape);
        // Counted exactly, as a long, and kept on the device; takeDropCount() reads it back.
        INDArray kept = Nd4j.getExecutioner().exec(new CountNonZero(values));
        INDArray keptUnits = unitsPerMaskUnit == 1 ? kept : kept.mul(unitsPerMaskUnit);
        keptOnDevice = keptOnDevice == null ? keptUnits.detach() : keptOnDevice.addi(keptUnits);
        unitsOnDevice += total * unitsPerMaskUnit;
        if (mask.scaleMode() == ScaleMode.BATCH) {
            // count(M) / count_ones(M), 0 when nothing is kept (the mask is all zeros then).
            INDArray scale = Transforms.max(kept.castTo(maskType), 1.0, false).rdivi(total);
            Nd4j.getExecutioner().exec(new MulOp(values, scale, values));
        } else {
            double scale = mask.scaleMode().scale(total, total, dropProb);
            if (scale != 1.0) {
                values.muli(scale);
            }
        }
        return values;
    }

    /** Indexes {@code [from, to)} along one dimension and everything along the others. */
    private static INDArrayIndex[] along(int rank, int dim, long from, long to) {
        INDArrayIndex[] index = new INDArrayIndex[rank];
        for (int i = 0; i < rank; i++) {
            index[i] = i == dim ? NDArrayIndex.interval(from, to) : NDArrayIndex.all();
        }
        return index;
    }

    private static long length(long[] shape) {
        return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    private static long[] toChannelsFirst(long[] shape) {
        long[] out = new long[shape.length];
        out[0] = shape[0];
        out[1] = shape[shape.length - 1];
        System.arraycopy(shape, 1, out, 2, shape.length - 2);
        return out;
    }

    private static INDArray toChannelsLast(INDArray channelsFirst) {
        int rank = channelsFirst.rank();
        int[] order = new int[rank];
        for (int i = 1; i < rank - 1; i++) {
            order[i] = i + 1;
        }
        order[rank - 1] = 1;
        return channelsFirst.permute(order);
    }

    /**
     * Back-propagates through the last forward's mask: {@code dL/dIn = dL/dOut * mask * scale},
     * then forgets the mask.
     *
     * @param gradAtOutput the gradient at the output, of the forward input's shape
     * @param gradAtInput where the gradient at the input goes; may be {@code gradAtOutput}
     * @param iteration the current iteration
     * @param epoch the current epoch
     * @return {@code gradAtInput}
     * @throws IllegalStateException if no training forward preceded, or the gradient's shape is not
     *     the forward input's (DL4J's NHWC {@code ConvolutionLayer} passes an NCHW gradient)
     */
    @Override
    public INDArray backprop(
            INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
        Forward last = forward;
        if (last == null) {
            throw new IllegalStateException(
                    "Cannot back-propagate DropBlock: no mask from a training forward (already"
                            + " cleared?)");
        }
        if (!Arrays.equals(last.shape, gradAtOutput.shape())) {
            throw new IllegalStateException(
                    "DropBlock's gradient must have the shape of its forward input "
                            + Arrays.toString(last.shape)
                            + ", got "
                            + Arrays.toString(gradAtOutput.shape())
                            + ": DL4J's ConvolutionLayer with CNN2DFormat.NHWC back-propagates its"
                            + " dropout in NCHW; put DropBlock in a DropoutLayer with"
                            + " withChannelsLast(true) instead");
        }
        forward = null;
        if (last.mask == null) {
            return gradAtInput == gradAtOutput ? gradAtInput : gradAtInput.assign(gradAtOutput);
        }
        Nd4j.getExecutioner().exec(new MulOp(gradAtOutput, last.mask, gradAtInput));
        return gradAtInput;
    }

    /** Forgets the mask of the last forward. */
    @Override
    public void clear() {
        forward = null;
    }

    /**
     * Returns a DropBlock of the same configuration, with the schedule cloned and no mask.
     *
     * @return the copy
     */
    @Override
    public DropBlock clone() {
        ISchedule schedule = keepProbSchedule == null ? null : keepProbSchedule.clone();
        return new DropBlock(keepProb, schedule, mask, channelsLast, engineMask);
    }

    /**
     * Validates a deserialised instance through the constructor, which also leaves it without a
     * mask.
     *
     * @return the validated instance
     */
    private Object readResolve() {
        return new DropBlock(
                keepProb,
                keepProbSchedule,
                blockSize,
                blockFraction,
                gammaMode,
                scaleMode,
                maskSharing,
                channelsLast,
                engineMask);
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        return o instanceof DropBlock other
                && Double.compare(keepProb, other.keepProb) == 0
                && Objects.equals(keepProbSchedule, other.keepProbSchedule)
                && mask.equals(other.mask)
                && channelsLast == other.channelsLast
                && engineMask == other.engineMask;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(keepProb, keepProbSchedule, mask, channelsLast, engineMask);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "DropBlock("
                + (keepProbSchedule == null
                        ? "keepProb=" + keepProb
                        : "keepProbSchedule=" + keepProbSchedule)
                + ", "
                + mask.blockToString()
                + ", gamma="
                + mask.gammaMode()
                + ", scale="
                + mask.scaleMode()
                + ", mask="
                + mask.maskSharing()
                + (channelsLast ? ", channelsLast=true" : "")
                + (engineMask ? ", engineMask=true" : "")
                + ")";
    }

    /** The last training forward: the input's shape and the mask view, null for the identity. */
    private static final class Forward {
        final long[] shape;
        final INDArray mask;

        Forward(long[] shape, INDArray mask) {
            this.shape = shape;
            this.mask = mask;
        }
    }
}
