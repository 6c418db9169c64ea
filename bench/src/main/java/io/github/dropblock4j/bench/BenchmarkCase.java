package io.github.dropblock4j.bench;

import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Objects;

/**
 * One input of the speed comparison: an (N, C, H, W) shape and a block size, written {@code
 * NxCxHxW/block}, e.g. {@code 32x1024x14x14/7}.
 *
 * @param shape the input shape, four positive dimensions
 * @param blockSize the DropBlock block size, at least 1
 */
public record BenchmarkCase(Shape shape, int blockSize) {

    /**
     * The cases of the comparison: ResNet-50's four stages at block size 7 (the paper's best), and
     * the third stage at block sizes 3 and 5.
     */
    public static final List<BenchmarkCase> DEFAULTS =
            List.of(
                    parse("32x256x56x56/7"),
                    parse("32x512x28x28/7"),
                    parse("32x1024x14x14/7"),
                    parse("32x2048x7x7/7"),
                    parse("32x1024x14x14/3"),
                    parse("32x1024x14x14/5"));

    // One input array must fit the engine's int-indexed host views and a 2 GiB float32 buffer.
    private static final long MAX_UNITS = Integer.MAX_VALUE / 4;

    /**
     * Checks the values.
     *
     * @param shape the input shape, four positive dimensions
     * @param blockSize the DropBlock block size, at least 1
     * @throws IllegalArgumentException if the shape is not four positive dimensions of at most 2^29
     *     units in all, or the block size is below 1
     */
    public BenchmarkCase {
        Objects.requireNonNull(shape, "shape");
        if (shape.dimension() != 4 || shape.getShape().length != 4 || hasNonPositive(shape)) {
            throw new IllegalArgumentException(
                    "shape must be 4 positive dimensions (N, C, H, W), got " + shape);
        }
        if (shape.size() > MAX_UNITS) {
            throw new IllegalArgumentException(
                    "shape must have at most "
                            + MAX_UNITS
                            + " units, got "
                            + shape.size()
                            + " in "
                            + shape);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
    }

    /**
     * Parses {@code NxCxHxW/block}.
     *
     * @param text the case, e.g. {@code 32x1024x14x14/7}
     * @return the case
     * @throws IllegalArgumentException naming the text if it is malformed or out of range
     */
    public static BenchmarkCase parse(String text) {
        String[] parts = text.trim().split("/", -1);
        String[] dims = parts[0].split("x", -1);
        if (parts.length != 2 || dims.length != 4) {
            throw new IllegalArgumentException(
                    "case must look like NxCxHxW/block, e.g. 32x1024x14x14/7, got '" + text + "'");
        }
        try {
            long[] shape = new long[4];
            for (int i = 0; i < 4; i++) {
                shape[i] = Long.parseLong(dims[i]);
            }
            return new BenchmarkCase(new Shape(shape), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "case must look like NxCxHxW/block, e.g. 32x1024x14x14/7, got '" + text + "'",
                    e);
        }
    }

    private static boolean hasNonPositive(Shape shape) {
        for (long d : shape.getShape()) {
            if (d < 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the case as {@link #parse(String)} reads it.
     *
     * @return e.g. {@code 32x1024x14x14/7}
     */
    @Override
    public String toString() {
        long[] d = shape.getShape();
        return d[0] + "x" + d[1] + "x" + d[2] + "x" + d[3] + "/" + blockSize;
    }
}
