package io.github.dropblock4j.core.contract;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.function.Supplier;

/**
 * Test support: the skeleton of a native-memory soak. A DropBlock's masks live in the engine's
 * memory, outside the Java heap, so a mask that is never freed shows only in the process's resident
 * set. The adapter supplies one training step, run in a fresh JVM (so that the allocator's state
 * left by other tests does not enter the measurement) with a fixed, pre-touched Java heap (so that
 * the collector's growing use of its heap does not count either); this class runs the loop, samples
 * the resident set, forks the child and judges its figures.
 *
 * <p>The bar applies to the median resident set over {@link #WINDOW} consecutive iterations after
 * {@code malloc_trim(0)} (glibc keeps freed blocks in its arenas and returns them to the system
 * only when asked), once after the warm-up and once at the end; the raw figures are reported too.
 * The child writes its figures to a properties file and leaves the judging to the test.
 */
public final class ResidentMemorySoak {

    /** The system property that sets the number of iterations of a full soak. */
    public static final String ITERATIONS_PROPERTY = "dropblock4j.soak.iterations";

    /** The JVM options of the child: a fixed heap, touched at start. */
    public static final List<String> CHILD_JVM =
            List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

    // One sample can be one array above or below its neighbours (a raw one as freed blocks stay
    // in glibc's heaps until reused, a trimmed one now and then as a block is still held); the
    // median of this many consecutive samples is not.
    private static final int WINDOW = 21;
    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemorySoak() {}

    /** One training step of the soak, as a user or a layer runs it. */
    public interface Step {
        /**
         * Runs the step.
         *
         * @param iteration the step's number, from 0 over warm-up and measured steps
         */
        void run(int iteration);
    }

    /** glibc's allocator, as the adapter reaches it (through its engine's JNA). */
    public interface Allocator {
        /** Returns the free pages of every arena to the system: {@code malloc_trim(0)}. */
        void trim();

        /**
         * Returns the bytes handed out by malloc and not freed, if the C library says.
         *
         * @return the bytes, or -1 when unknown
         */
        default long inUseBytes() {
            return -1;
        }
    }

    /**
     * Returns the number of iterations a soak runs: {@link #ITERATIONS_PROPERTY}, or {@code
     * ciIterations} when it is not set.
     *
     * @param ciIterations the iterations of a build's run
     * @return the iterations, at least four windows
     */
    public static int iterations(int ciIterations) {
        int iterations = Integer.getInteger(ITERATIONS_PROPERTY, ciIterations);
        assertTrue(iterations >= 4 * WINDOW, ITERATIONS_PROPERTY + " must be >= " + 4 * WINDOW);
        return iterations;
    }

    /**
     * Whether this system has the resident-set line the soak reads (Linux).
     *
     * @return true when {@code /proc/self/status} is readable
     */
    public static boolean supported() {
        return Files.isReadable(STATUS);
    }

    /**
     * Child side: runs {@code warmUp} steps, then {@code iterations} measured ones, sampling the
     * resident set after each.
     *
     * @param warmUp steps before the measurement, while the allocator grows to the working set
     * @param iterations measured steps, at least four windows
     * @param step the training step
     * @param allocator glibc, or null when this is not glibc
     * @return the figures: the medians after warm-up and at the end, raw and trimmed, the time an
     *     iteration and the raw trajectory
     */
    public static Properties measure(int warmUp, int iterations, Step step, Allocator allocator) {
        for (int i = 0; i < warmUp; i++) {
            step.run(i);
        }
        boolean trimmed = allocator != null;
        Properties figures = new Properties();
        figures.setProperty("trimmed", Boolean.toString(trimmed));
        int every = Math.max(1, iterations / 20);
        StringJoiner trajectory = new StringJoiner(",");
        long[][] first = new long[2][WINDOW];
        long[][] last = new long[2][WINDOW];
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            step.run(warmUp + i);
            long rss = residentBytes();
            if (i % every == 0 || i == iterations - 1) {
                trajectory.add(Long.toString(rss >> 20));
            }
            int window = windowOf(i, iterations);
            if (window >= 0) {
                boolean trimWindow = window % 2 == 1;
                long sample = rss;
                if (trimWindow && trimmed) {
                    allocator.trim();
                    sample = residentBytes();
                }
                long[][] samples = window < 2 ? first : last;
                samples[trimWindow ? 1 : 0][i % WINDOW] = sample;
            }
            if (trimmed && i == 2 * WINDOW - 1 && allocator.inUseBytes() >= 0) {
                figures.setProperty(
                        "mallocInUseAfterWarmUpBytes", Long.toString(allocator.inUseBytes()));
            }
        }
        double msPerIteration = (System.nanoTime() - start) / 1e6 / iterations;
        figures.setProperty("rssAfterWarmUpBytes", Long.toString(median(first[0])));
        figures.setProperty("rssAtEndBytes", Long.toString(median(last[0])));
        if (trimmed) {
            figures.setProperty("trimmedRssAfterWarmUpBytes", Long.toString(median(first[1])));
            figures.setProperty("trimmedRssAtEndBytes", Long.toString(median(last[1])));
            if (allocator.inUseBytes() >= 0) {
                figures.setProperty("mallocInUseAtEndBytes", Long.toString(allocator.inUseBytes()));
            }
        }
        figures.setProperty("msPerIteration", Double.toString(msPerIteration));
        figures.setProperty("trajectoryEvery", Integer.toString(every));
        figures.setProperty("trajectoryMegabytes", trajectory.toString());
        return figures;
    }

    /**
     * Child side: how much the resident set rises while an array of the engine is held, so that the
     * test can check that the probe reads the right line in the right unit.
     *
     * @param allocate allocates and touches the array, and returns what frees it
     * @return the rise in bytes
     */
    public static long probe(Supplier<AutoCloseable> allocate) {
        long before = residentBytes();
        try (AutoCloseable array = allocate.get()) {
            return residentBytes() - before;
        } catch (Exception e) {
            throw new IllegalStateException("the probe's array did not close", e);
        }
    }

    /**
     * Child side: writes the figures for the test.
     *
     * @param figures the figures
     * @param report the file the test named
     * @throws IOException if it cannot be written
     */
    public static void write(Properties figures, Path report) throws IOException {
        try (Writer writer = Files.newBufferedWriter(report, StandardCharsets.UTF_8)) {
            figures.store(writer, "ResidentMemorySoak");
        }
    }

    /**
     * Test side: runs {@code soakMain} in a fresh JVM as {@code soakMain iterations reportFile} and
     * reads the figures it wrote.
     *
     * @param soakMain the adapter's soak, a class with a {@code main(String[])}
     * @param jvmOptions the child's JVM options, {@link #CHILD_JVM} and the engine's
     * @param timeout how long the child may run, a hang detector rather than a speed bar
     * @param dir a directory for the report and the child's log
     * @param iterations the measured iterations
     * @return the figures
     * @throws IOException if the child cannot be started or its report read
     * @throws InterruptedException if interrupted while waiting for the child
     */
    public static Report run(
            Class<?> soakMain, List<String> jvmOptions, Duration timeout, Path dir, int iterations)
            throws IOException, InterruptedException {
        Path report = dir.resolve("soak.properties");
        ForkedJvm.run(
                soakMain,
                jvmOptions,
                timeout,
                dir.resolve("soak.log"),
                Integer.toString(iterations),
                report.toString());
        Properties figures = new Properties();
        try (Reader reader = Files.newBufferedReader(report, StandardCharsets.UTF_8)) {
            figures.load(reader);
        }
        return new Report(figures, iterations);
    }

    /** The figures a soak's child wrote, and the checks on them. */
    public static final class Report {

        private final Properties figures;
        private final int iterations;

        private Report(Properties figures, int iterations) {
            this.figures = figures;
            this.iterations = iterations;
        }

        /**
         * Returns a figure the adapter's child added.
         *
         * @param key the figure's name
         * @return its value, or null
         */
        public String get(String key) {
            return figures.getProperty(key);
        }

        /**
         * Returns the figures in words, for the build's log and the failure message.
         *
         * @param what what each iteration does, such as the input shape
         * @return the summary
         */
        public String summary(String what) {
            return String.format(
                    Locale.ROOT,
                    "%d iterations of %s, %.1f ms an iteration. RSS after malloc_trim(0), median"
                            + " of %d samples: after warm-up %s MB, at end %s MB. Raw RSS, the"
                            + " same: after warm-up %s MB, at end %s MB. malloc in use: after"
                            + " warm-up %s MB, at end %s MB. Raw RSS every %s iterations (MB): %s",
                    iterations,
                    what,
                    Double.parseDouble(figures.getProperty("msPerIteration")),
                    WINDOW,
                    megabytes("trimmedRssAfterWarmUp"),
                    megabytes("trimmedRssAtEnd"),
                    megabytes("rssAfterWarmUp"),
                    megabytes("rssAtEnd"),
                    megabytes("mallocInUseAfterWarmUp"),
                    megabytes("mallocInUseAtEnd"),
                    figures.getProperty("trajectoryEvery"),
                    figures.getProperty("trajectoryMegabytes"));
        }

        /**
         * Asserts that the probe saw nearly all of its array, so that the bar can fail.
         *
         * @param probeBytes the size of the probe's array
         * @param slackBytes what page rounding and the engine's alignment may take away
         */
        public void assertProbeSeen(long probeBytes, long slackBytes) {
            long seen = bytes("probeSeen");
            assertTrue(
                    seen >= probeBytes - slackBytes,
                    "RSS rose " + seen + " bytes for a " + probeBytes + "-byte array");
        }

        /**
         * Asserts that the resident set (trimmed where the child could trim) grew by at most {@code
         * maxGrowthBytes} from after the warm-up to the end.
         *
         * @param maxGrowthBytes the bar
         * @param what what each iteration does, for the message
         */
        public void assertGrowthAtMost(long maxGrowthBytes, String what) {
            boolean trimmed = Boolean.parseBoolean(figures.getProperty("trimmed"));
            long afterWarmUp = bytes(trimmed ? "trimmedRssAfterWarmUp" : "rssAfterWarmUp");
            long atEnd = bytes(trimmed ? "trimmedRssAtEnd" : "rssAtEnd");
            assertTrue(atEnd - afterWarmUp <= maxGrowthBytes, summary(what));
        }

        private long bytes(String key) {
            return Long.parseLong(figures.getProperty(key + "Bytes"));
        }

        private String megabytes(String key) {
            String value = figures.getProperty(key + "Bytes");
            return value == null
                    ? "n/a"
                    : String.format(Locale.ROOT, "%.1f", Long.parseLong(value) / 1048576.0);
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

    /**
     * Reads the process's resident set from {@code /proc/self/status}.
     *
     * @return the resident set in bytes
     */
    public static long residentBytes() {
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
