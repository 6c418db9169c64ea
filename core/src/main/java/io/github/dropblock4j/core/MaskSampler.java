package io.github.dropblock4j.core;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Draws DropBlock masks on the host by sampling seed positions directly and painting a block of
 * zeros at each.
 *
 * <p>Every valid seed position of every mask is an independent Bernoulli(gamma) trial, exactly as
 * in Algorithm 1 of the paper (arXiv 1810.12890). The seeds are drawn by {@link BlockSeeds} with
 * geometric gaps between them, so the cost is O(seeds x block area), not O(units x block area) as
 * with a random field grown by max pooling; drawing and painting run in parallel over chunks of
 * masks.
 *
 * <p>Stateless and thread safe; each call uses only the random generator it is given.
 */
public final class MaskSampler {

    private MaskSampler() {}

    /**
     * Paints the blocks of {@code numMasks} consecutive masks into {@code mask}, which the caller
     * has filled with a non-zero value. Mask {@code m} occupies the {@link BlockGeometry#area()}
     * units starting at index {@code m * area}, in row-major order over the spatial dimensions.
     * Dropped units are set to 0. Equivalent to {@link BlockSeeds#draw} followed by {@link
     * BlockSeeds#paintZeros}.
     *
     * @param mask the buffer to paint, with at least {@code numMasks * area} units; its position
     *     and limit are ignored
     * @param numMasks how many independent masks to draw
     * @param geometry the spatial layout of one mask
     * @param gamma the seed probability, in [0, 1]
     * @param random the source of randomness
     * @return how many units lie inside a block, which is how many were set to 0 that were
     *     non-zero before
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
        BlockSeeds seeds = BlockSeeds.draw(numMasks, geometry, gamma, random);
        seeds.paintZeros(mask);
        return seeds.dropped();
    }
}
