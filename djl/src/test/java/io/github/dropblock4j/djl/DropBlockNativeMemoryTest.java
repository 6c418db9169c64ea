package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
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
 * surefire fork does not enter the measurement. The full soak is 20,000 iterations; CI runs {@link
 * #CI_ITERATIONS}. Run the full soak with {@code -Ddropblock4j.soak.iterations=20000} (see
 * docs/reliability.md).
 *
 * <p>The bar applies to the resident set after {@code malloc_trim(0)}: glibc keeps freed blocks of
 * this size in its per-thread arenas and returns them to the system only when asked, so the raw
 * resident set of this loop rises by about 300 MB over the first 7,000 iterations and then levels
 * off, while the bytes malloc has handed out and not taken back stay flat. DJL's own Dropout does
 * the same (docs/reliability.md has the figures). The child's Java heap is fixed and touched up
 * front, so that the collector's growing use of its heap does not count either. The raw figures are
 * reported too.
 */
class DropBlockNativeMemoryTest {

    private static final String ITERATIONS_PROPERTY = "dropblock4j.soak.iterations";
    // A batch of 32 ResNet-50 group-3 feature maps, where the paper places DropBlock: 6.4 M units,
    // 25.7 MB a copy.
    private static final Shape SHAPE = new Shape(32, 256, 28, 28);
    // 50-80 ms an iteration on 2 shared cores, so CI stays near 25 s. Leaking the mask, the
    // output or the gradient (25.7 MB each) passes the bar within 3 iterations; smaller leaks
    // need the full soak (50 MB / 20,000 = 2.6 kB an iteration).
    private static final int CI_ITERATIONS = 200;
    // The first iterations grow glibc's heaps to the working set and its mmap threshold to the
    // largest freed block (25.7 MB here); measure after that.
    private static final int WARM_UP_ITERATIONS = 100;
    // One sample can be one array (25.7 MB) above or below its neighbours (a raw one as freed
    // blocks stay in glibc's heaps until reused, a trimmed one now and then as a block is still
    // held); the median of this many consecutive samples is not.
    private static final int WINDOW = 21;
    // The loop needs a few MB of Java heap; a fixed heap, touched at start, keeps the resident
    // set of the heap constant.
    private static final List<String> CHILD_JVM =
            List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");
    // Two arrays of the shape above: a mask, output or gradient kept by each iteration passes it
    // within 3 iterations, while allocator noise (one array, see WINDOW) stays below it.
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
        assertTrue(iterations >= 4 * WINDOW, ITERATIONS_PROPERTY + " must be >= " + 4 * WINDOW);
        Path report = dir.resolve("soak.properties");
        // A hang detector, not a speed bar: 50-80 ms an iteration on 2 quiet cores, but 2.8 s
        // (0.37 s of CPU) under `nice -n 10` on 2 cores with a load average of 17, so 5 s each.
        Duration timeout = Duration.ofSeconds(120 + 5L * (WARM_UP_ITERATIONS + iterations));
        ForkedJvm.run(
                Soak.class,
                CHILD_JVM,
                timeout,
                dir.resolve("soak.log"),
                Integer.toString(iterations),
                report.toString());
        Properties figures = new Properties();
        try (Reader reader = Files.newBufferedReader(report, StandardCharsets.UTF_8)) {
            figures.load(reader);
        }
        boolean trimmed = Boolean.parseBoolean(figures.getProperty("trimmed"));
        long afterWarmUp = bytes(figures, trimmed ? "trimmedRssAfterWarmUp" : "rssAfterWarmUp");
        long atEnd = bytes(figures, trimmed ? "trimmedRssAtEnd" : "rssAtEnd");
        String summary =
                String.format(
                        Locale.ROOT,
                        "%d iterations of %s after %d warm-up, %.1f ms an iteration. RSS after"
                                + " malloc_trim(0), median of %d samples: after warm-up %s MB,"
                                + " at end %s MB. Raw RSS, the same: after warm-up %s MB, at end"
                                + " %s MB."
                                + " malloc in use: after warm-up %s MB, at end %s MB. Raw RSS every"
                                + " %s iterations (MB): %s",
                        iterations,
                        SHAPE,
                        WARM_UP_ITERATIONS,
                        Double.parseDouble(figures.getProperty("msPerIteration")),
                        WINDOW,
                        megabytes(figures, "trimmedRssAfterWarmUp"),
                        megabytes(figures, "trimmedRssAtEnd"),
                        megabytes(figures, "rssAfterWarmUp"),
                        megabytes(figures, "rssAtEnd"),
                        megabytes(figures, "mallocInUseAfterWarmUp"),
                        megabytes(figures, "mallocInUseAtEnd"),
                        figures.getProperty("trajectoryEvery"),
                        figures.getProperty("trajectoryMegabytes"));
        System.out.println("DropBlockNativeMemoryTest: " + summary);

        // The probe reads the right line in the right unit, so the bar below can fail.
        long probeSeen = bytes(figures, "probeSeen");
        assertTrue(
                probeSeen >= PROBE_BYTES - PROBE_SLACK_BYTES,
                "RSS rose " + probeSeen + " bytes for a " + PROBE_BYTES + "-byte array");
        // The loop really trained: the last gradient has zeros, but not only zeros.
        long lastDropped = Long.parseLong(figures.getProperty("lastStepDroppedUnits"));
        assertTrue(
                lastDropped > 0 && lastDropped < SHAPE.size(), "last step dropped " + lastDropped);
        assertEquals("0", figures.getProperty("arraysLeftOnManager"));
        assertTrue(atEnd - afterWarmUp <= MAX_GROWTH_BYTES, summary);
    }

    private static long bytes(Properties figures, String key) {
        return Long.parseLong(figures.getProperty(key + "Bytes"));
    }

    private static String megabytes(Properties figures, String key) {
        String value = figures.getProperty(key + "Bytes");
        return value == null
                ? "n/a"
                : String.format(Locale.ROOT, "%.1f", Long.parseLong(value) / 1048576.0);
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
                figures.setProperty("probeSeenBytes", Long.toString(probe(manager)));
                for (int i = 0; i < WARM_UP_ITERATIONS; i++) {
                    trainingStep(dropBlock, manager);
                }
                boolean trimmed = Glibc.available();
                figures.setProperty("trimmed", Boolean.toString(trimmed));
                long[][] first = new long[2][WINDOW];
                long[][] last = new long[2][WINDOW];
                long lastDropped = 0;
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    lastDropped = trainingStep(dropBlock, manager);
                    long rss = residentBytes();
                    if (i % every == 0 || i == iterations - 1) {
                        trajectory.add(Long.toString(rss >> 20));
                    }
                    int window = windowOf(i, iterations);
                    if (window >= 0) {
                        boolean trimWindow = window % 2 == 1;
                        long sample = trimWindow && trimmed ? Glibc.trimmedResidentBytes() : rss;
                        long[][] samples = window < 2 ? first : last;
                        samples[trimWindow ? 1 : 0][i % WINDOW] = sample;
                    }
                    if (trimmed && i == 2 * WINDOW - 1) {
                        figures.setProperty(
                                "mallocInUseAfterWarmUpBytes", Long.toString(Glibc.inUseBytes()));
                    }
                }
                double msPerIteration = (System.nanoTime() - start) / 1e6 / iterations;
                figures.setProperty("rssAfterWarmUpBytes", Long.toString(median(first[0])));
                figures.setProperty("rssAtEndBytes", Long.toString(median(last[0])));
                if (trimmed) {
                    figures.setProperty(
                            "trimmedRssAfterWarmUpBytes", Long.toString(median(first[1])));
                    figures.setProperty("trimmedRssAtEndBytes", Long.toString(median(last[1])));
                    figures.setProperty("mallocInUseAtEndBytes", Long.toString(Glibc.inUseBytes()));
                }
                figures.setProperty("msPerIteration", Double.toString(msPerIteration));
                figures.setProperty("lastStepDroppedUnits", Long.toString(lastDropped));
                figures.setProperty(
                        "arraysLeftOnManager", Integer.toString(manager.getManagedArrays().size()));
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
            NDArray big = manager.ones(new Shape(PROBE_BYTES / Float.BYTES));
            try {
                return residentBytes() - before;
            } finally {
                big.close();
            }
        }

        /**
         * Four windows of samples: raw, then trimmed, after warm-up; raw, then trimmed, at the end.
         * Trimming changes what glibc keeps, so each raw window comes before its trimmed one.
         *
         * @return 0 to 3, or -1 outside the windows
         */
        private static int windowOf(int i, int iterations) {
            if (i < 2 * WINDOW) {
                return i / WINDOW;
            }
            int endStart = iterations - 2 * WINDOW;
            return i >= endStart ? 2 + (i - endStart) / WINDOW : -1;
        }

        private static long median(long[] samples) {
            long[] sorted = samples.clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2];
        }
    }

    /**
     * glibc's malloc, through JNA (a dependency of DJL): {@code malloc_trim} returns the free pages
     * of every arena to the system, and {@code mallinfo2} counts what is handed out.
     */
    static final class Glibc {

        private Glibc() {}

        /** The C library, as far as the soak uses it. */
        public interface C extends Library {
            /**
             * Releases free memory from the heap.
             *
             * @param pad bytes to keep at the top of the main heap
             * @return 1 if memory was released, 0 otherwise
             */
            int malloc_trim(long pad);

            /**
             * Reports the allocator's statistics.
             *
             * @return the statistics of all arenas
             */
            MallInfo2 mallinfo2();
        }

        /** {@code struct mallinfo2}: ten {@code size_t} fields. */
        @Structure.FieldOrder({
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost"
        })
        public static final class MallInfo2 extends Structure implements Structure.ByValue {
            public long arena;
            public long ordblks;
            public long smblks;
            public long hblks;
            public long hblkhd;
            public long usmblks;
            public long fsmblks;
            public long uordblks;
            public long fordblks;
            public long keepcost;
        }

        private static C c;

        /**
         * Loads the C library's allocator functions.
         *
         * @return false when this is not glibc 2.33 or later
         */
        static boolean available() {
            try {
                c = Native.load("c", C.class);
                c.mallinfo2();
                return true;
            } catch (UnsatisfiedLinkError e) {
                return false;
            }
        }

        /** Calls {@code malloc_trim(0)}, then reads the resident set. */
        static long trimmedResidentBytes() {
            c.malloc_trim(0);
            return residentBytes();
        }

        /** Bytes handed out by malloc and not freed: in the arenas plus mmapped blocks. */
        static long inUseBytes() {
            MallInfo2 info = c.mallinfo2();
            return info.uordblks + info.hblkhd;
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
