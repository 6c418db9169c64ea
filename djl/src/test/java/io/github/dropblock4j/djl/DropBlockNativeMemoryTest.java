package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory of training forwards and backwards. The masks live in the engine's memory, so a
 * mask that is never freed shows only in the process's resident set, not in the Java heap.
 *
 * <p>The loop runs in a fresh JVM, so that the allocator's state left by other tests of the same
 * surefire fork does not enter the measurement. The soak is 20,000 iterations; CI runs
 * {@link #CI_ITERATIONS}. Run the full soak with {@code -Ddropblock4j.soak.iterations=20000} (see
 * docs/reliability.md).
 */
class DropBlockNativeMemoryTest {

    private static final String ITERATIONS_PROPERTY = "dropblock4j.soak.iterations";
    // The shape: a batch of ResNet-50 group-3 feature maps, 6.4 M units, 25.7 MB a copy.
    private static final Shape SHAPE = new Shape(32, 256, 28, 28);
    // 50-80 ms an iteration on 2 shared cores, so CI stays near 25 s. Leaking the mask, the
    // output or the gradient (25.7 MB each) passes the bar within 3 iterations; smaller leaks
    // need the full soak (50 MB / 20,000 = 2.6 kB an iteration).
    private static final int CI_ITERATIONS = 200;
    // glibc's allocator settles over the first iterations: its mmap threshold grows to the
    // largest freed block (25.7 MB here) and its heaps to the working set. Measured: flat from
    // about iteration 100 on.
    private static final int WARM_UP_ITERATIONS = 100;
    // One sample can be one array (25.7 MB) above or below its neighbours, as freed blocks stay
    // in glibc's heaps until reused; the median of this many consecutive samples is not.
    private static final int WINDOW = 21;
    // The bar.
    private static final long MAX_GROWTH_BYTES = 50L << 20;
    // The self-check allocates this much native memory and expects the probe to see nearly all
    // of it (page rounding and libtorch's alignment take a little away).
    private static final long PROBE_BYTES = 128L << 20;
    private static final long PROBE_SLACK_BYTES = 8L << 20;
    private static final Path STATUS = Path.of("/proc/self/status");

    @Test
    void trainingForwardAndBackwardDoNotGrowResidentMemory(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isReadable(STATUS), "needs Linux's /proc/self/status");
        int iterations = Integer.getInteger(ITERATIONS_PROPERTY, CI_ITERATIONS);
        assertTrue(iterations >= WINDOW, ITERATIONS_PROPERTY + " must be >= " + WINDOW);
        Path report = dir.resolve("soak.properties");
        // A second an iteration is over ten times the measured rate.
        Duration timeout = Duration.ofSeconds(120 + WARM_UP_ITERATIONS + iterations);
        ForkedJvm.run(Soak.class, timeout, dir.resolve("soak.log"), Integer.toString(iterations), report.toString());
        Properties figures = new Properties();
        try (Reader reader = Files.newBufferedReader(report, StandardCharsets.UTF_8)) {
            figures.load(reader);
        }
        long probeSeen = Long.parseLong(figures.getProperty("probeBytesSeen"));
        long afterWarmUp = Long.parseLong(figures.getProperty("rssAfterWarmUpBytes"));
        long atEnd = Long.parseLong(figures.getProperty("rssAtEndBytes"));
        long lastDropped = Long.parseLong(figures.getProperty("lastStepDroppedUnits"));
        String summary = String.format(
                Locale.ROOT,
                "%d iterations of %s after %d warm-up: RSS (median of %d samples) after warm-up"
                        + " %.1f MB, at end %.1f MB, growth %.1f MB; %.1f ms an iteration;"
                        + " RSS every %s iterations (MB): %s",
                iterations,
                SHAPE,
                WARM_UP_ITERATIONS,
                WINDOW,
                afterWarmUp / 1048576.0,
                atEnd / 1048576.0,
                (atEnd - afterWarmUp) / 1048576.0,
                Double.parseDouble(figures.getProperty("msPerIteration")),
                figures.getProperty("trajectoryEvery"),
                figures.getProperty("trajectoryMegabytes"));
        System.out.println("DropBlockNativeMemoryTest: " + summary);

        // The probe reads the right line in the right unit, so the bar below can fail.
        assertTrue(probeSeen >= PROBE_BYTES - PROBE_SLACK_BYTES,
                "RSS rose " + probeSeen + " bytes for a " + PROBE_BYTES + "-byte array");
        // The loop really trained: the last gradient has zeros, but not only zeros.
        assertTrue(lastDropped > 0 && lastDropped < SHAPE.size(), "last step dropped " + lastDropped);
        assertEquals("0", figures.getProperty("arraysLeftOnManager"));
        assertTrue(atEnd - afterWarmUp <= MAX_GROWTH_BYTES, summary);
    }

    /**
     * The soak, in its own JVM: {@code Soak iterations reportFile}. Writes its figures to the
     * report as properties and leaves the judging to the test.
     */
    static final class Soak {

        private Soak() {}

        public static void main(String[] args) throws IOException {
            int iterations = Integer.parseInt(args[0]);
            Path report = Path.of(args[1]);
            DropBlock dropBlock = DropBlock.builder().optBlockSize(7).optDropProb(0.1f).build();
            Engine.getInstance().setRandomSeed(20181029);
            Properties figures = new Properties();
            int every = Math.max(1, iterations / 20);
            StringJoiner trajectory = new StringJoiner(",");
            try (NDManager manager = NDManager.newBaseManager()) {
                figures.setProperty("probeBytesSeen", Long.toString(probe(manager)));
                for (int i = 0; i < WARM_UP_ITERATIONS; i++) {
                    trainingStep(dropBlock, manager);
                }
                long[] first = new long[WINDOW];
                long[] last = new long[WINDOW];
                long lastDropped = 0;
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    lastDropped = trainingStep(dropBlock, manager);
                    long rss = residentBytes();
                    if (i < WINDOW) {
                        first[i] = rss;
                    }
                    last[i % WINDOW] = rss;
                    if (i % every == 0 || i == iterations - 1) {
                        trajectory.add(Long.toString(rss >> 20));
                    }
                }
                double msPerIteration = (System.nanoTime() - start) / 1e6 / iterations;
                figures.setProperty("rssAfterWarmUpBytes", Long.toString(median(first)));
                figures.setProperty("rssAtEndBytes", Long.toString(median(last)));
                figures.setProperty("msPerIteration", Double.toString(msPerIteration));
                figures.setProperty("lastStepDroppedUnits", Long.toString(lastDropped));
                figures.setProperty("arraysLeftOnManager", Integer.toString(manager.getManagedArrays().size()));
                figures.setProperty("trajectoryEvery", Integer.toString(every));
                figures.setProperty("trajectoryMegabytes", trajectory.toString());
            }
            try (Writer writer = Files.newBufferedWriter(report, StandardCharsets.UTF_8)) {
                figures.store(writer, "DropBlockNativeMemoryTest.Soak");
            }
        }

        /**
         * One step as a user writes it: a batch in its own sub-manager, a gradient collector, a
         * backward, and everything closed with the sub-manager.
         *
         * @return how many units of the input's gradient are zero, the dropped units
         */
        private static long trainingStep(DropBlock dropBlock, NDManager manager) {
            try (NDManager step = manager.newSubManager()) {
                NDArray x = step.ones(SHAPE);
                x.setRequiresGradient(true);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray y = DropBlockTest.forward(dropBlock, step, x, true);
                    collector.backward(y.sum());
                }
                return x.getGradient().eq(0).sum().getLong();
            }
        }

        /** How much the resident set rises while a {@link #PROBE_BYTES} array is held. */
        private static long probe(NDManager manager) {
            long before = residentBytes();
            try (NDArray big = manager.ones(new Shape(PROBE_BYTES / Float.BYTES))) {
                return residentBytes() - before;
            }
        }

        private static long median(long[] samples) {
            long[] sorted = samples.clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2];
        }
    }

    private static long residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                // "VmRSS:    123456 kB"
                if (line.startsWith("VmRSS:")) {
                    String[] fields = line.trim().split("\\s+");
                    if (!"kB".equals(fields[2])) {
                        throw new IllegalStateException("unexpected unit in " + line);
                    }
                    return Long.parseLong(fields[1]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS line in " + STATUS);
    }
}
