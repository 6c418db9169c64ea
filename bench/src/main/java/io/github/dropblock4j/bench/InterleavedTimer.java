package io.github.dropblock4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * Times several prepared contenders on one input with a plain loop, for a quick comparison where
 * JMH would take too long, and returns the median of each.
 *
 * <p>Within an iteration the contenders run one after another, in an order that rotates from one
 * iteration to the next, so that a shared machine's changing load falls on all of them alike and
 * their ratios stay meaningful even when the absolute times drift. Each step gets a fresh input and
 * is timed alone; creating the input and freeing the step's arrays are not timed. The first {@code
 * warmup} iterations are run but not counted.
 *
 * <p>The clock is {@link System#nanoTime()} unless another is given, so that a test can check the
 * bookkeeping with a clock it advances itself instead of asserting on a loaded machine's times.
 *
 * <p>Immutable; a call uses only its arguments, but contenders timed from several threads at once
 * slow each other down.
 */
public final class InterleavedTimer {

    /** The largest number of iterations, warm-up or timed. */
    public static final int MAX_ITERATIONS = 10_000;

    private final int warmup;
    private final int iterations;
    private final LongSupplier clock;

    /**
     * Creates a timer on {@link System#nanoTime()}.
     *
     * @param warmup untimed iterations first, in [0, {@value #MAX_ITERATIONS}]
     * @param iterations timed iterations, in [1, {@value #MAX_ITERATIONS}]
     * @throws IllegalArgumentException naming the argument and its value when it is out of range
     */
    public InterleavedTimer(int warmup, int iterations) {
        this(warmup, iterations, System::nanoTime);
    }

    /**
     * Creates a timer on a given clock.
     *
     * @param warmup untimed iterations first, in [0, {@value #MAX_ITERATIONS}]
     * @param iterations timed iterations, in [1, {@value #MAX_ITERATIONS}]
     * @param clock reads the time in nanoseconds, as {@link System#nanoTime()} does
     * @throws IllegalArgumentException naming the argument and its value when it is out of range
     * @throws NullPointerException if the clock is null
     */
    public InterleavedTimer(int warmup, int iterations, LongSupplier clock) {
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException(
                    "iterations must be in [1, " + MAX_ITERATIONS + "], got " + iterations);
        }
        if (warmup < 0 || warmup > MAX_ITERATIONS) {
            throw new IllegalArgumentException(
                    "warmup must be in [0, " + MAX_ITERATIONS + "], got " + warmup);
        }
        this.warmup = warmup;
        this.iterations = iterations;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Times every contender and returns its median step time.
     *
     * @param source the input values, copied afresh for every step into a sub-manager of its
     *     manager
     * @param forwards the prepared contenders
     * @param pass the timed step
     * @return the median milliseconds of each contender, in the order of {@code forwards}
     */
    public double[] medianMillis(NDArray source, List<UnaryOperator<NDArray>> forwards, Pass pass) {
        int n = forwards.size();
        long[][] nanos = new long[n][iterations];
        for (int i = -warmup; i < iterations; i++) {
            for (int k = 0; k < n; k++) {
                int which = Math.floorMod(k + i, n);
                try (NDManager step = source.getManager().newSubManager()) {
                    NDArray input = pass.input(step, source);
                    long start = clock.getAsLong();
                    pass.run(forwards.get(which), input);
                    long elapsed = clock.getAsLong() - start;
                    if (i >= 0) {
                        nanos[which][i] = elapsed;
                    }
                }
            }
        }
        double[] medians = new double[n];
        for (int k = 0; k < n; k++) {
            medians[k] = median(nanos[k]) / 1e6;
        }
        return medians;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "InterleavedTimer(warmup=" + warmup + ", iterations=" + iterations + ")";
    }
}
