package io.github.dropblock4j.core;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws DropBlock masks on the host by sampling seed positions directly.
 *
 * <p>Every valid seed position of every mask is an independent Bernoulli(gamma) trial, exactly as
 * in Algorithm 1 of the paper (arXiv 1810.12890). Seeds are sparse (gamma is about {@code p /
 * block_size^2}), so instead of one random number per unit the sampler jumps from seed to seed
 * with geometric gaps, {@code floor(log(U) / log(1 - gamma))} failures before the next success,
 * and paints a block of zeros at each. The cost is O(seeds x block area), not O(units x block
 * area) as with a random field grown by max pooling.
 *
 * <p>Stateless and thread safe; each call uses only the random generator it is given.
 */
public final class MaskSampler {

    private MaskSampler() {}

    /**
     * Paints the blocks of {@code numMasks} consecutive masks into {@code mask}, which the caller
     * has filled with a non-zero value. Mask {@code m} occupies the {@link BlockGeometry#area()}
     * units starting at index {@code m * area}, in row-major order over the spatial dimensions.
     * Dropped units are set to 0.
     *
     * @param mask the buffer to paint, with at least {@code numMasks * area} units; its position
     *     and limit are ignored
     * @param numMasks how many independent masks to draw
     * @param geometry the spatial layout of one mask
     * @param gamma the seed probability, in [0, 1]
     * @param random the source of randomness
     * @return how many units were set to 0 that were non-zero before
     * @throws IllegalArgumentException if gamma is out of range or the buffer is too small
     */
    public static long paint(
            FloatBuffer mask, long numMasks, BlockGeometry geometry, double gamma, SplittableRandom random) {
        if (!(gamma >= 0 && gamma <= 1)) {
            throw new IllegalArgumentException("gamma must be in [0, 1], got " + gamma);
        }
        if (numMasks < 0) {
            throw new IllegalArgumentException("numMasks must be >= 0, got " + numMasks);
        }
        long area = geometry.area();
        if (numMasks * area > mask.capacity()) {
            throw new IllegalArgumentException(
                    "mask must hold numMasks * area = "
                            + numMasks * area
                            + " units, got capacity "
                            + mask.capacity());
        }
        long validPerMask = geometry.validCount();
        long trials = numMasks * validPerMask;
        if (gamma == 0 || trials == 0) {
            return 0;
        }
        BlockPainter painter = new BlockPainter(mask, geometry);
        double logMiss = Math.log1p(-gamma);
        long dropped = 0;
        long trial = -1;
        while (true) {
            if (gamma < 1) {
                // Failures before the next seed: geometric with success probability gamma.
                double gap = Math.floor(Math.log(1.0 - random.nextDouble()) / logMiss);
                if (gap >= trials - trial - 1) {
                    break;
                }
                trial += (long) gap + 1;
            } else {
                trial++;
                if (trial >= trials) {
                    break;
                }
            }
            long m = trial / validPerMask;
            dropped += painter.paint(m * area, trial - m * validPerMask);
        }
        return dropped;
    }

    /** Zeroes the block of one seed, counting the units that change. */
    private static final class BlockPainter {
        private final FloatBuffer mask;
        private final int rank;
        private final int[] valid;
        private final int[] block;
        private final long[] stride;
        private final int[] offsetInBlock;

        BlockPainter(FloatBuffer mask, BlockGeometry geometry) {
            this.mask = mask;
            rank = geometry.rank();
            valid = new int[rank];
            block = new int[rank];
            stride = new long[rank];
            offsetInBlock = new int[rank];
            long s = 1;
            for (int d = rank - 1; d >= 0; d--) {
                valid[d] = geometry.validExtent(d);
                block[d] = geometry.block(d);
                stride[d] = s;
                s *= geometry.size(d);
            }
        }

        long paint(long maskOffset, long seedIndex) {
            // Seed coordinates in the valid region, last dimension fastest.
            long base = maskOffset;
            long rest = seedIndex;
            for (int d = rank - 1; d >= 0; d--) {
                base += (rest % valid[d]) * stride[d];
                rest /= valid[d];
            }
            // The block is a set of rows along the last dimension; walk the leading dimensions.
            int rowLength = block[rank - 1];
            Arrays.fill(offsetInBlock, 0);
            long dropped = 0;
            while (true) {
                long row = base;
                for (int d = 0; d < rank - 1; d++) {
                    row += offsetInBlock[d] * stride[d];
                }
                int start = (int) row;
                for (int i = start; i < start + rowLength; i++) {
                    if (mask.get(i) != 0f) {
                        mask.put(i, 0f);
                        dropped++;
                    }
                }
                int d = rank - 2;
                while (d >= 0 && ++offsetInBlock[d] == block[d]) {
                    offsetInBlock[d] = 0;
                    d--;
                }
                if (d < 0) {
                    return dropped;
                }
            }
        }
    }
}
