package io.github.dropblock4j.core;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

/**
 * Samples DropBlock masks on the host: the one way to draw masks in this module. {@link #draw}
 * draws the seeds of a batch of masks and counts the units their blocks drop, before any mask
 * memory is touched; {@link #write} then writes the masks once, the kept value (typically the
 * scale, computed from {@link #dropped()}) outside the blocks and 0 inside.
 *
 * <p>Every valid seed position of every mask is an independent Bernoulli(gamma) trial, as in
 * Algorithm 1 of the paper (arXiv 1810.12890). Seeds are sparse (gamma is about {@code p /
 * block_size^2}), so the sampler jumps from seed to seed with geometric gaps: with {@code E} a
 * standard exponential draw, {@code floor(E / -log(1 - gamma))} is exactly the number of failures
 * before the next success, since {@code P(gap >= k) = exp(k log(1 - gamma)) = (1 - gamma)^k}. That
 * is O(seeds), not O(units), and the exponential comes from the generator's ziggurat, several times
 * cheaper than a logarithm; writing costs O(seeds x block area) plus one pass over the masks,
 * instead of a random number and a max pool per unit.
 *
 * <p>The masks are cut into chunks of consecutive masks whose boundaries depend only on the number
 * of masks and the geometry (about {@value #UNITS_PER_CHUNK} units each), and every chunk draws
 * from its own generator, split from the caller's in chunk order. Chunks are drawn and written in
 * parallel on the common fork-join pool, and the seeds are the same for a given generator state
 * however many threads there are.
 *
 * <p>Instances are immutable once drawn; {@link #write(FloatBuffer, float)} may be called from any
 * thread.
 */
public final class BlockSeeds {

    // 2^16 units is 256 KiB of float32 mask, a chunk that fits in a core's L2 cache and is big
    // enough that forking it costs little next to drawing and painting it.
    static final int UNITS_PER_CHUNK = 1 << 16;
    // Scratch chunks for write(), reused across calls so that writing a mask allocates nothing.
    // Not thread-locals: the common pool's workers drop their thread-locals after every task.
    // At most one per thread that can be writing at once is kept.
    private static final Queue<float[]> SCRATCH = new ConcurrentLinkedQueue<>();
    private static final int SCRATCH_KEPT = 2 * Runtime.getRuntime().availableProcessors() + 2;

    private final BlockGeometry geometry;
    private final long numMasks;
    private final Chunk[] chunks;
    private final long dropped;

    private BlockSeeds(BlockGeometry geometry, long numMasks, Chunk[] chunks) {
        this.geometry = geometry;
        this.numMasks = numMasks;
        this.chunks = chunks;
        long sum = 0;
        for (Chunk chunk : chunks) {
            sum += chunk.dropped;
        }
        this.dropped = sum;
    }

    /**
     * Draws the seeds of {@code numMasks} consecutive masks. Mask {@code m} occupies the {@link
     * BlockGeometry#area()} units starting at unit {@code m * area}.
     *
     * @param numMasks how many independent masks, with {@code numMasks * area} at most {@link
     *     Integer#MAX_VALUE}
     * @param geometry the spatial layout of one mask
     * @param gamma the seed probability, in [0, 1]
     * @param random the generator every chunk's own generator is split from
     * @return the seeds
     * @throws IllegalArgumentException if gamma or the number of masks is out of range
     */
    public static BlockSeeds draw(
            long numMasks, BlockGeometry geometry, double gamma, SplittableRandom random) {
        if (!(gamma >= 0 && gamma <= 1)) {
            throw new IllegalArgumentException("gamma must be in [0, 1], got " + gamma);
        }
        if (numMasks < 0) {
            throw new IllegalArgumentException("numMasks must be >= 0, got " + numMasks);
        }
        long area = geometry.area();
        if (numMasks > Integer.MAX_VALUE / area) {
            throw new IllegalArgumentException(
                    "numMasks * area must be at most "
                            + Integer.MAX_VALUE
                            + ", got "
                            + numMasks
                            + " * "
                            + area);
        }
        Layout layout = new Layout(geometry);
        long masksPerChunk = Math.max(1, UNITS_PER_CHUNK / area);
        Chunk[] chunks = new Chunk[Math.toIntExact((numMasks + masksPerChunk - 1) / masksPerChunk)];
        for (int c = 0; c < chunks.length; c++) {
            long first = c * masksPerChunk;
            chunks[c] =
                    new Chunk(
                            layout,
                            first,
                            Math.min(masksPerChunk, numMasks - first),
                            random.split());
        }
        forEach(chunks.length, c -> chunks[c].draw(gamma));
        return new BlockSeeds(geometry, numMasks, chunks);
    }

    /**
     * Returns the number of units inside the union of all blocks: the units the masks drop.
     *
     * @return the dropped units, at most {@code numMasks * area}
     */
    public long dropped() {
        return dropped;
    }

    /**
     * Returns the number of seeds drawn.
     *
     * @return the number of seeds over all masks
     */
    public long seedCount() {
        long n = 0;
        for (Chunk chunk : chunks) {
            n += chunk.size;
        }
        return n;
    }

    /**
     * Writes the whole masks: {@code keep} at every unit outside the blocks, 0 inside, in parallel
     * over the chunks. Each chunk is painted in a scratch array, reused across calls, that stays in
     * cache and is then copied out in bulk, so the masks' memory is written once, sequentially, at
     * the speed of a copy; the buffer's previous contents do not matter.
     *
     * @param mask the masks, row-major, at least {@code numMasks * area} units; its position and
     *     limit are ignored
     * @param keep the value of the units that are kept, typically the scale
     * @throws IllegalArgumentException if the buffer is too small
     */
    public void write(FloatBuffer mask, float keep) {
        checkCapacity(mask);
        forEach(chunks.length, c -> chunks[c].write(mask.duplicate(), keep));
    }

    private void checkCapacity(FloatBuffer mask) {
        long units = numMasks * geometry.area();
        if (units > mask.capacity()) {
            throw new IllegalArgumentException(
                    "mask must hold numMasks * area = "
                            + units
                            + " units, got capacity "
                            + mask.capacity());
        }
    }

    private static void forEach(int n, java.util.function.IntConsumer action) {
        if (n <= 1) {
            for (int i = 0; i < n; i++) {
                action.accept(i);
            }
        } else {
            IntStream.range(0, n).parallel().forEach(action);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "BlockSeeds{masks="
                + numMasks
                + ", seeds="
                + seedCount()
                + ", dropped="
                + dropped
                + ", "
                + geometry
                + "}";
    }

    /** Offsets of a block's rows and the strides, precomputed once per draw. */
    private static final class Layout {
        final int area;
        final int validPerMask;
        final int rowLength;
        final int sizeLast;
        final int blockArea;
        // Unit offset of every row of a block (a row runs along the last dimension) from the
        // block's first unit.
        final int[] rowOffsets;
        // The same offsets in rows of the last dimension.
        final int[] rowIndexOffsets;
        final int[] valid;
        final int[] stride;
        // Strides in rows of the last dimension, for the leading dimensions.
        final int[] rowStride;

        Layout(BlockGeometry g) {
            int rank = g.rank();
            area = Math.toIntExact(g.area());
            validPerMask = Math.toIntExact(g.validCount());
            blockArea = Math.toIntExact(g.blockArea());
            sizeLast = g.size(rank - 1);
            rowLength = g.block(rank - 1);
            valid = new int[rank];
            stride = new int[rank];
            int s = 1;
            for (int d = rank - 1; d >= 0; d--) {
                valid[d] = g.validExtent(d);
                stride[d] = s;
                s *= g.size(d);
            }
            rowStride = new int[rank];
            for (int d = 0; d < rank; d++) {
                rowStride[d] = stride[d] / sizeLast;
            }
            rowOffsets = new int[blockArea / rowLength];
            rowIndexOffsets = new int[rowOffsets.length];
            int[] at = new int[rank];
            for (int r = 0; r < rowOffsets.length; r++) {
                int offset = 0;
                for (int d = 0; d < rank - 1; d++) {
                    offset += at[d] * stride[d];
                }
                rowOffsets[r] = offset;
                rowIndexOffsets[r] = offset / sizeLast;
                for (int d = rank - 2; d >= 0 && ++at[d] == g.block(d); d--) {
                    at[d] = 0;
                }
            }
        }

        /**
         * Returns the row, counted in rows of the last dimension within its mask, of the first unit
         * of the block of valid seed index {@code v}.
         */
        int row(int v) {
            int rank = valid.length;
            if (rank == 1) {
                return 0;
            }
            int rest = v / valid[rank - 1];
            int row = 0;
            for (int d = rank - 2; d > 0; d--) {
                int q = rest / valid[d];
                row += (rest - q * valid[d]) * rowStride[d];
                rest = q;
            }
            return row + rest * rowStride[0];
        }

        /** Returns the last-dimension coordinate of the block of valid seed index {@code v}. */
        int lastCoordinate(int v) {
            int validLast = valid[valid.length - 1];
            return v - v / validLast * validLast;
        }
    }

    /** The seeds of a run of consecutive masks, drawn from the chunk's own generator. */
    private static final class Chunk {
        private final Layout layout;
        private final long firstMask;
        private final long numMasks;
        private final SplittableRandom random;
        // The first unit of each seed's block, in increasing order.
        private int[] origins = new int[0];
        private int size;
        private long dropped;
        // Scratch bit set of one mask, for masks with more than one seed.
        private long[] bits;
        // The block rows (in rows of the last dimension) and last coordinates of the current
        // mask's seeds.
        private int[] groupRows = new int[8];
        private int[] groupXs = new int[8];

        Chunk(Layout layout, long firstMask, long numMasks, SplittableRandom random) {
            this.layout = layout;
            this.firstMask = firstMask;
            this.numMasks = numMasks;
            this.random = random;
        }

        void draw(double gamma) {
            if (gamma == 0) {
                return;
            }
            // Chunk-relative trials fit in an int: a chunk holds at most max(UNITS_PER_CHUNK,
            // area) units and at most one valid seed position per unit.
            int validPerMask = layout.validPerMask;
            int area = layout.area;
            int trials = Math.toIntExact(numMasks * validPerMask);
            // Room for the mean number of seeds and four standard deviations more.
            double mean = (double) trials * gamma;
            origins = new int[(int) Math.min(trials, (long) (mean + 4 * Math.sqrt(mean) + 16))];
            double rate = -Math.log1p(-gamma);
            int maskStart = Math.toIntExact(firstMask * area);
            int trial = -1;
            // The current seed's valid index within its mask, and the seeds of that mask so far.
            int v = -1;
            int groupSize = 0;
            while (true) {
                int step;
                if (gamma < 1) {
                    // Failures before the next seed: geometric with success probability gamma.
                    double gap = Math.floor(random.nextExponential() / rate);
                    if (gap >= trials - trial - 1) {
                        break;
                    }
                    step = (int) gap + 1;
                } else if (trial + 1 < trials) {
                    step = 1;
                } else {
                    break;
                }
                trial += step;
                v += step;
                if (v >= validPerMask) {
                    dropped += union(groupSize);
                    groupSize = 0;
                    int masksAhead = v / validPerMask;
                    maskStart += masksAhead * area;
                    v -= masksAhead * validPerMask;
                }
                int row = layout.row(v);
                int x = layout.lastCoordinate(v);
                if (size == origins.length) {
                    origins = Arrays.copyOf(origins, 2 * size + 16);
                }
                origins[size++] = maskStart + row * layout.sizeLast + x;
                if (groupSize == groupRows.length) {
                    groupRows = Arrays.copyOf(groupRows, 2 * groupSize + 8);
                    groupXs = Arrays.copyOf(groupXs, 2 * groupSize + 8);
                }
                groupRows[groupSize] = row;
                groupXs[groupSize] = x;
                groupSize++;
            }
            dropped += union(groupSize);
        }

        /**
         * Counts the units in the union of the blocks of the current mask's {@code seeds} seeds: a
         * lone seed drops a whole block; several are merged in a bit set of the mask, one bit per
         * unit, a run of 64-bit words per row of the last dimension.
         */
        private long union(int seeds) {
            if (seeds <= 1) {
                return seeds == 0 ? 0 : layout.blockArea;
            }
            int words = (layout.sizeLast + 63) >>> 6;
            if (bits == null) {
                bits = new long[layout.area / layout.sizeLast * words];
            }
            int rowLength = layout.rowLength;
            int[] rows = layout.rowIndexOffsets;
            long union = 0;
            int lowRow = Integer.MAX_VALUE;
            int highRow = 0;
            for (int k = 0; k < seeds; k++) {
                int firstRow = groupRows[k];
                int x = groupXs[k];
                lowRow = Math.min(lowRow, firstRow);
                highRow = Math.max(highRow, firstRow + rows[rows.length - 1]);
                if (words == 1) {
                    // The common case, rows of at most 64 units: one word per row of the block.
                    long run = (rowLength == 64 ? -1L : (1L << rowLength) - 1) << x;
                    for (int row : rows) {
                        long old = bits[firstRow + row];
                        union += Long.bitCount(run & ~old);
                        bits[firstRow + row] = old | run;
                    }
                } else {
                    for (int row : rows) {
                        union += setRun(bits, (firstRow + row) * words, x, rowLength);
                    }
                }
            }
            Arrays.fill(bits, lowRow * words, (highRow + 1) * words, 0L);
            return union;
        }

        /**
         * Sets bits [x, x + length) of the row starting at word {@code row}; returns how many were
         * clear.
         */
        private static int setRun(long[] bits, int row, int x, int length) {
            int newlySet = 0;
            int end = x + length;
            while (x < end) {
                int word = row + (x >>> 6);
                int bit = x & 63;
                int n = Math.min(64 - bit, end - x);
                long run = (n == 64 ? -1L : (1L << n) - 1) << bit;
                newlySet += Long.bitCount(run & ~bits[word]);
                bits[word] |= run;
                x += n;
            }
            return newlySet;
        }

        void write(FloatBuffer mask, float keep) {
            int start = Math.toIntExact(firstMask * layout.area);
            int units = Math.toIntExact(numMasks * layout.area);
            float[] values = SCRATCH.poll();
            if (values == null || values.length < units) {
                values = new float[Math.max(units, UNITS_PER_CHUNK)];
            }
            Arrays.fill(values, 0, units, keep);
            zeroBlocks(values, -start);
            mask.put(start, values, 0, units);
            if (SCRATCH.size() < SCRATCH_KEPT) {
                SCRATCH.offer(values);
            }
        }

        /** Sets the units of every block to 0, each origin shifted by {@code shift}. */
        private void zeroBlocks(float[] values, int shift) {
            int[] rowOffsets = layout.rowOffsets;
            int rowLength = layout.rowLength;
            for (int i = 0; i < size; i++) {
                int origin = origins[i] + shift;
                for (int rowOffset : rowOffsets) {
                    int rowStart = origin + rowOffset;
                    for (int u = rowStart; u < rowStart + rowLength; u++) {
                        values[u] = 0f;
                    }
                }
            }
        }
    }
}
