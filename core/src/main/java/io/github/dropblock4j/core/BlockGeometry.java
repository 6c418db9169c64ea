package io.github.dropblock4j.core;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The spatial layout of one DropBlock mask: the feature map's size in each spatial dimension and
 * the block size clipped to it.
 *
 * <p>A seed at position {@code s} zeroes the half-open box {@code [s_i, s_i + b_i)} in every
 * dimension {@code i}. Seeds are drawn only where the whole box fits, the valid region {@code 0 <=
 * s_i <= size_i - b_i}, so blocks never hang over the edge, even sizes need no padding convention,
 * and height and width are never swapped. A block larger than the map is clipped to it, and every
 * formula below uses the clipped size.
 *
 * <p>Instances are immutable and thread safe.
 */
public final class BlockGeometry {

    private final int[] size;
    private final int[] block;
    // Lazily computed, immutable once set; a race only computes it twice.
    private volatile Map<Long, Long> histogram;

    private BlockGeometry(int[] size, int[] block) {
        this.size = size;
        this.block = block;
    }

    /**
     * Creates the geometry of a mask over the given spatial sizes.
     *
     * @param spatialSize the feature map's size per spatial dimension, each at least 1
     * @param blockSize one block size for every dimension, or one per dimension; each at least 1
     *     and clipped to the feature size
     * @return the geometry
     * @throws IllegalArgumentException if a size or block size is out of range, or the block has
     *     neither one entry nor one per dimension
     */
    public static BlockGeometry of(int[] spatialSize, int[] blockSize) {
        if (spatialSize.length == 0) {
            throw new IllegalArgumentException(
                    "spatialSize must have at least one dimension, got []");
        }
        for (int s : spatialSize) {
            if (s < 1) {
                throw new IllegalArgumentException(
                        "spatialSize must be >= 1 in every dimension, got "
                                + Arrays.toString(spatialSize));
            }
        }
        checkBlockSize(blockSize);
        if (blockSize.length != 1 && blockSize.length != spatialSize.length) {
            throw new IllegalArgumentException(
                    "blockSize must have 1 entry or one per spatial dimension ("
                            + spatialSize.length
                            + "), got "
                            + Arrays.toString(blockSize));
        }
        int[] clipped = new int[spatialSize.length];
        for (int i = 0; i < clipped.length; i++) {
            int b = blockSize.length == 1 ? blockSize[0] : blockSize[i];
            clipped[i] = Math.min(b, spatialSize[i]);
        }
        return new BlockGeometry(spatialSize.clone(), clipped);
    }

    /**
     * Creates the geometry of a mask whose block is a fraction of the feature map: in dimension
     * {@code i} the block is {@code round(blockFraction_i * spatialSize_i)}, rounded half up, at
     * least 1 and at most the map's size. So a fraction of 0.25 gives blocks of 7 on a 28x28 map, 4
     * on 14x14 (3.5 rounded up) and 2 on 7x7, the block shrinking with the map as the network
     * downsamples.
     *
     * @param spatialSize the feature map's size per spatial dimension, each at least 1
     * @param blockFraction one fraction for every dimension, or one per dimension; each in (0, 1]
     * @return the geometry, whose {@link #block(int)} is the size applied
     * @throws IllegalArgumentException if a size or fraction is out of range, or the fraction has
     *     neither one entry nor one per dimension
     */
    public static BlockGeometry ofFraction(int[] spatialSize, double[] blockFraction) {
        checkBlockFraction(blockFraction);
        if (blockFraction.length != 1 && blockFraction.length != spatialSize.length) {
            throw new IllegalArgumentException(
                    "blockFraction must have 1 entry or one per spatial dimension ("
                            + spatialSize.length
                            + "), got "
                            + Arrays.toString(blockFraction));
        }
        int[] block = new int[spatialSize.length];
        for (int i = 0; i < block.length; i++) {
            double f = blockFraction.length == 1 ? blockFraction[0] : blockFraction[i];
            // At least 1 here; of() clips to the map and rejects a map size below 1.
            block[i] = (int) Math.max(1, Math.round(f * spatialSize[i]));
        }
        return of(spatialSize, block);
    }

    /**
     * Checks a block fraction argument: at least one entry, each a number in (0, 1].
     *
     * @param blockFraction the fraction of each spatial dimension, or a single one for all
     * @throws IllegalArgumentException naming the value when it is not valid
     */
    public static void checkBlockFraction(double... blockFraction) {
        if (blockFraction == null || blockFraction.length == 0) {
            throw new IllegalArgumentException(
                    "blockFraction must have at least one entry, got "
                            + Arrays.toString(blockFraction));
        }
        for (double f : blockFraction) {
            if (!(f > 0 && f <= 1)) {
                throw new IllegalArgumentException(
                        "blockFraction must be in (0, 1], got " + Arrays.toString(blockFraction));
            }
        }
    }

    /**
     * Checks a block size argument: at least one entry, each at least 1.
     *
     * @param blockSize the block size per spatial dimension, or a single one for all
     * @throws IllegalArgumentException naming the value when it is not valid
     */
    public static void checkBlockSize(int... blockSize) {
        if (blockSize == null || blockSize.length == 0) {
            throw new IllegalArgumentException(
                    "blockSize must have at least one entry, got " + Arrays.toString(blockSize));
        }
        for (int b : blockSize) {
            if (b < 1) {
                throw new IllegalArgumentException(
                        "blockSize must be >= 1, got " + Arrays.toString(blockSize));
            }
        }
    }

    /**
     * Returns the number of spatial dimensions.
     *
     * @return the rank of the mask's spatial part
     */
    public int rank() {
        return size.length;
    }

    /**
     * Returns the feature map's size in one dimension.
     *
     * @param dim the spatial dimension
     * @return its size
     */
    public int size(int dim) {
        return size[dim];
    }

    /**
     * Returns the block size in one dimension, clipped to the feature size.
     *
     * @param dim the spatial dimension
     * @return the clipped block size
     */
    public int block(int dim) {
        return block[dim];
    }

    /**
     * Returns the number of valid seed positions in one dimension, {@code size - block + 1}.
     *
     * @param dim the spatial dimension
     * @return the valid extent, at least 1
     */
    public int validExtent(int dim) {
        return size[dim] - block[dim] + 1;
    }

    /**
     * Returns the number of units in one mask.
     *
     * @return the product of the spatial sizes
     */
    public long area() {
        long n = 1;
        for (int s : size) {
            n *= s;
        }
        return n;
    }

    /**
     * Returns the number of units in one block.
     *
     * @return the product of the clipped block sizes
     */
    public long blockArea() {
        long n = 1;
        for (int b : block) {
            n *= b;
        }
        return n;
    }

    /**
     * Returns the number of valid seed positions in one mask.
     *
     * @return the product of the valid extents
     */
    public long validCount() {
        long n = 1;
        for (int i = 0; i < size.length; i++) {
            n *= validExtent(i);
        }
        return n;
    }

    /**
     * Returns the number of valid seeds whose block covers position {@code x} of one dimension: the
     * seeds {@code s} with {@code max(0, x - b + 1) <= s <= min(x, size - b)}.
     *
     * @param dim the spatial dimension
     * @param x the position, in {@code [0, size)}
     * @return how many seeds cover it, at least 1
     */
    public int coverage(int dim, int x) {
        return Math.min(x, size[dim] - block[dim]) - Math.max(0, x - block[dim] + 1) + 1;
    }

    /**
     * Returns how many positions of one mask are covered by exactly {@code k} valid seeds, for
     * every {@code k} that occurs. The coverage of a position is the product of its coverage in
     * each dimension.
     *
     * @return a map from coverage {@code k} to the number of positions with that coverage
     */
    public Map<Long, Long> coverageHistogram() {
        Map<Long, Long> cached = histogram;
        if (cached == null) {
            cached = Collections.unmodifiableMap(computeHistogram());
            histogram = cached;
        }
        return cached;
    }

    private Map<Long, Long> computeHistogram() {
        Map<Long, Long> histogram = new TreeMap<>();
        histogram.put(1L, 1L);
        for (int d = 0; d < size.length; d++) {
            Map<Long, Long> perDim = new TreeMap<>();
            for (int x = 0; x < size[d]; x++) {
                perDim.merge((long) coverage(d, x), 1L, Long::sum);
            }
            Map<Long, Long> combined = new TreeMap<>();
            for (Map.Entry<Long, Long> a : histogram.entrySet()) {
                for (Map.Entry<Long, Long> b : perDim.entrySet()) {
                    combined.merge(a.getKey() * b.getKey(), a.getValue() * b.getValue(), Long::sum);
                }
            }
            histogram = combined;
        }
        return histogram;
    }

    /**
     * Returns the expected fraction of zeroed units of one mask when every valid position is a seed
     * with probability {@code gamma}, independently: {@code mean_x(1 - (1 - gamma)^k(x))}.
     *
     * @param gamma the seed probability, in [0, 1]
     * @return the expected drop fraction, in [0, 1]
     */
    public double expectedDropFraction(double gamma) {
        if (gamma >= 1.0) {
            return 1.0;
        }
        double logKeep = Math.log1p(-gamma);
        double sum = 0;
        for (Map.Entry<Long, Long> e : coverageHistogram().entrySet()) {
            // 1 - (1 - gamma)^k without cancellation, exact to rounding even for tiny gamma.
            sum += e.getValue() * -Math.expm1(logKeep * e.getKey());
        }
        return sum / area();
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof BlockGeometry)) {
            return false;
        }
        BlockGeometry other = (BlockGeometry) o;
        return Arrays.equals(size, other.size) && Arrays.equals(block, other.block);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(size) + Arrays.hashCode(block);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "BlockGeometry{size="
                + Arrays.toString(size)
                + ", block="
                + Arrays.toString(block)
                + "}";
    }
}
