package io.github.dropblock4j.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.BlockSeeds;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.ScaleMode;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Draws a scaled DropBlock mask as an engine array: 0 where a unit is dropped, the scale where it
 * is kept. Two paths give masks of the same distribution:
 *
 * <ul>
 *   <li>the host path, for CPU arrays of an engine whose {@link NDArray#toByteBuffer(boolean)} is a
 *       view of the array's memory (PyTorch): {@link BlockSeeds} draws the seeds and counts the
 *       dropped units first, then the mask is written, the scale with the blocks of zeros, straight
 *       into the engine's memory, in parallel over chunks of masks. No random number is drawn per
 *       unit and no buffer is copied; the sampler's generator is seeded from the engine's, so
 *       setting the engine's seed reproduces the masks.
 *   <li>the engine path, for every other device: the dense algorithm in engine operators, {@code
 *       seeds = uniform < gamma} over the valid region, zero-padded by {@code block - 1} on both
 *       sides, grown into blocks by a stride-1 max pool of the block size (so a seed at {@code s}
 *       covers {@code [s, s + block)}), and {@code mask = 1 - pooled}, scaled. The scale is
 *       computed on the device, so nothing waits for the device.
 * </ul>
 */
final class DropBlockMask {

    private static final float FLOAT16_MAX = 65504f;
    // Whether an engine's toByteBuffer(true) on the CPU writes through to the array, per engine.
    private static final Map<String, Boolean> HOST_VIEW = new ConcurrentHashMap<>();

    private DropBlockMask() {}

    /**
     * A sampled mask and how many of its units it zeroes.
     *
     * @param mask the scaled mask, attached to the manager it was sampled for
     * @param dropped the mask's zeroed units, or -1 when they were not counted
     */
    record Sample(NDArray mask, long dropped) {}

    /**
     * Samples a mask.
     *
     * @param manager where the mask lives
     * @param maskShape (masks..., spatial...): the mask's shape, broadcastable to the input, of at
     *     most {@code Integer.MAX_VALUE} units ({@link MaskSettings#maskShape(long[])})
     * @param geometry the spatial layout of one mask
     * @param gamma the seed probability
     * @param scaleMode how kept units are scaled
     * @param dropProb the requested drop probability
     * @param dataType the mask's data type, that of the input
     * @param engineOps whether to use the engine path even where the host path works
     * @param countOnDevice whether the engine path counts the zeroed units, which waits for the
     *     device; the host path always counts them
     * @return the mask, attached to {@code manager}, and its zeroed units
     */
    static Sample sample(
            NDManager manager,
            Shape maskShape,
            BlockGeometry geometry,
            double gamma,
            ScaleMode scaleMode,
            double dropProb,
            DataType dataType,
            boolean engineOps,
            boolean countOnDevice) {
        long total = maskShape.size();
        // A float16 mask holds at most 65504; a larger scale (p near 1, or almost nothing kept)
        // keeps the mask in float32, and the caller's product is rounded to float16 once.
        if (engineOps || !hostPathWorks(manager)) {
            NDArray mask =
                    sampleWithEngineOps(manager, maskShape, geometry, gamma, scaleMode, dropProb);
            long dropped = -1;
            if (countOnDevice) {
                try (NDArray zeros = mask.eq(0);
                        NDArray count = zeros.sum();
                        NDArray asLong = count.toType(DataType.INT64, true)) {
                    dropped = asLong.getLong();
                }
            }
            if (dataType != DataType.FLOAT16) {
                return new Sample(toType(mask, dataType), dropped);
            }
            // The batch scale was computed on the device: read the largest value back.
            try (NDArray max = mask.max()) {
                return new Sample(
                        max.getFloat() > FLOAT16_MAX ? mask : toType(mask, dataType), dropped);
            }
        }
        SplittableRandom random = new SplittableRandom(engineSeed(manager));
        // Count the drops before touching the mask, so that it is written once, scale and zeros
        // together, into memory the engine has not initialised.
        BlockSeeds seeds = BlockSeeds.draw(total / geometry.area(), geometry, gamma, random);
        float scale = (float) scaleMode.scale(total, total - seeds.dropped(), dropProb);
        NDArray mask = manager.create(maskShape, DataType.FLOAT32);
        seeds.write(mask.toByteBuffer(true).asFloatBuffer(), scale);
        return new Sample(
                dataType == DataType.FLOAT16 && scale > FLOAT16_MAX ? mask : toType(mask, dataType),
                seeds.dropped());
    }

    private static NDArray toType(NDArray mask, DataType dataType) {
        if (dataType == mask.getDataType()) {
            return mask;
        }
        NDArray cast = mask.toType(dataType, false);
        mask.close();
        return cast;
    }

    private static NDArray sampleWithEngineOps(
            NDManager manager,
            Shape maskShape,
            BlockGeometry geometry,
            double gamma,
            ScaleMode scaleMode,
            double dropProb) {
        int rank = geometry.rank();
        long[] seedShape = maskShape.getShape().clone();
        for (int d = 0; d < rank; d++) {
            seedShape[2 + d] = geometry.validExtent(d);
        }
        try (NDManager scratch = manager.newSubManager()) {
            NDArray covered =
                    scratch.randomUniform(0f, 1f, new Shape(seedShape))
                            .lt(gamma)
                            .toType(DataType.FLOAT32, false);
            // A box max pool is separable: one pass per dimension costs the sum of the block
            // sizes per unit instead of their product.
            for (int d = 0; d < rank; d++) {
                covered = growAlong(covered, d, geometry.block(d));
            }
            NDArray kept = covered.eq(0);
            NDArray mask = kept.toType(DataType.FLOAT32, false);
            if (scaleMode == ScaleMode.BATCH) {
                // count(M) / count_ones(M), 0 when nothing is kept (the mask is all zeros then).
                NDArray keptCount = kept.sum().toType(DataType.FLOAT32, false).maximum(1f);
                mask.muli(NDArrays.div((double) maskShape.size(), keptCount));
            } else {
                double scale = scaleMode.scale(maskShape.size(), maskShape.size(), dropProb);
                if (scale != 1.0) {
                    mask.muli(scale);
                }
            }
            mask.attach(manager);
            return mask;
        }
    }

    /**
     * Grows every seed into {@code [s, s + block)} along spatial dimension {@code dim}: pads that
     * dimension with {@code block - 1} zeros on both sides and takes a stride-1 max pool of {@code
     * block} units along it.
     */
    private static NDArray growAlong(NDArray seeds, int dim, int block) {
        if (block == 1) {
            return seeds;
        }
        int rank = seeds.getShape().dimension() - 2;
        // pad() takes (before, after) pairs from the last dimension backwards.
        long[] padding = new long[2 * rank];
        padding[2 * (rank - 1 - dim)] = block - 1;
        padding[2 * (rank - 1 - dim) + 1] = block - 1;
        long[] kernel = new long[rank];
        Arrays.fill(kernel, 1L);
        kernel[dim] = block;
        long[] stride = new long[rank];
        Arrays.fill(stride, 1L);
        NDArray padded = seeds.pad(new Shape(padding), 0);
        Shape k = new Shape(kernel);
        Shape s = new Shape(stride);
        Shape none = new Shape(new long[rank]);
        switch (rank) {
            case 1:
                return Pool.maxPool1d(padded, k, s, none, false);
            case 2:
                return Pool.maxPool2d(padded, k, s, none, false);
            case 3:
                return Pool.maxPool3d(padded, k, s, none, false);
            default:
                throw new IllegalArgumentException(
                        "DropBlock has 1, 2 or 3 spatial dimensions, got " + rank);
        }
    }

    /**
     * Returns whether masks for this manager can be painted on the host: its device is the CPU and
     * its engine's {@code toByteBuffer(true)} is a view that writes through, which is probed once
     * per engine.
     */
    private static boolean hostPathWorks(NDManager manager) {
        if (!Device.Type.CPU.equals(manager.getDevice().getDeviceType())) {
            return false;
        }
        return HOST_VIEW.computeIfAbsent(
                manager.getEngine().getEngineName(), name -> writesThrough(manager));
    }

    private static boolean writesThrough(NDManager manager) {
        try (NDManager probe = manager.newSubManager()) {
            NDArray array = probe.zeros(new Shape(1), DataType.FLOAT32);
            ByteBuffer view = array.toByteBuffer(true);
            view.putFloat(0, 1f);
            return array.toFloatArray()[0] == 1f;
        } catch (UnsupportedOperationException e) {
            // A read-only buffer (ReadOnlyBufferException) or no buffer at all.
            return false;
        }
    }

    private static long engineSeed(NDManager manager) {
        try (NDArray draw =
                manager.randomInteger(0, Long.MAX_VALUE, new Shape(1), DataType.INT64)) {
            return draw.toLongArray()[0];
        }
    }
}
