package io.github.dropblock4j.spark;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * How many workers of a Spark training run side by side in this JVM, and how many native threads
 * each may use, so that together they never ask for more threads than the machine has cores.
 *
 * <p>On a {@code local[N]} master every worker is a thread of the driver's JVM, and each calls into
 * ND4J's native code, which sizes its OpenMP and BLAS thread pools for the whole machine (ND4J
 * 1.0.0-M2 reports 4 OpenMP threads on 2 cores). Two workers then ask for twice the cores and spend
 * their time yielding to each other. {@link #apply()} limits ND4J's threads to {@code cores /
 * workers side by side}, at least 1. On any other master the workers run in executor JVMs that this
 * one cannot size: there {@code spark.executor.cores} and the executors' {@code OMP_NUM_THREADS}
 * decide (README, "Spark on a cluster"), and {@link #apply()} does nothing.
 *
 * <p>Immutable; {@link #apply()} changes process-wide ND4J settings.
 */
public final class WorkerThreads {

    // local, local[4], local[*], local[4,2] (retries): task slots in the driver's JVM.
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    private final String master;
    private final boolean local;
    private final int sideBySide;
    private final int threadsPerWorker;
    private final int cores;

    private WorkerThreads(
            String master, boolean local, int sideBySide, int threadsPerWorker, int cores) {
        this.master = master;
        this.local = local;
        this.sideBySide = sideBySide;
        this.threadsPerWorker = threadsPerWorker;
        this.cores = cores;
    }

    /**
     * Chooses the native threads of each worker.
     *
     * @param master the Spark master, as {@code SparkContext.master()} gives it
     * @param workers the workers of the training master, at least 1
     * @param cores the cores of this machine, at least 1 ({@code availableProcessors()})
     * @return the choice
     * @throws IllegalArgumentException if an argument is out of range, or if on a local master more
     *     workers would train side by side than there are cores
     */
    public static WorkerThreads choose(String master, int workers, int cores) {
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException("master must be a Spark master URL, got " + master);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, got " + cores);
        }
        Matcher m = LOCAL.matcher(master);
        if (!m.matches()) {
            return new WorkerThreads(master, false, workers, 0, cores);
        }
        int slots =
                m.group(1) == null ? 1 : m.group(1).equals("*") ? cores : parse(master, m.group(1));
        int sideBySide = Math.min(workers, slots);
        if (sideBySide > cores) {
            throw new IllegalArgumentException(
                    "workers must train side by side on at most the "
                            + cores
                            + " cores of this machine, got "
                            + sideBySide
                            + " ("
                            + workers
                            + " workers on "
                            + master
                            + ")");
        }
        return new WorkerThreads(master, true, sideBySide, Math.max(1, cores / sideBySide), cores);
    }

    private static int parse(String master, String slots) {
        try {
            return Integer.parseInt(slots);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "master must have a task count that fits an int, got " + master, e);
        }
    }

    /**
     * Returns whether the workers run in this JVM, on a {@code local} master.
     *
     * @return true on a local master
     */
    public boolean isLocal() {
        return local;
    }

    /**
     * Returns how many workers train at the same time in this JVM, or on other masters how many
     * workers the run has.
     *
     * @return the workers side by side
     */
    public int sideBySide() {
        return sideBySide;
    }

    /**
     * Returns the native threads each worker may use on a local master.
     *
     * @return the threads, at least 1; 0 on other masters, whose executors decide
     */
    public int threadsPerWorker() {
        return threadsPerWorker;
    }

    /**
     * Sets ND4J's OpenMP and BLAS threads of this JVM to {@link #threadsPerWorker()} on a local
     * master, before the workers start; does nothing on other masters. Loads ND4J.
     */
    public void apply() {
        if (!local) {
            return;
        }
        Environment environment = Nd4j.getEnvironment();
        environment.setMaxThreads(threadsPerWorker);
        environment.setMaxMasterThreads(threadsPerWorker);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threadsPerWorker);
        Nd4j.factory().blas().setMaxThreads(threadsPerWorker);
    }

    /**
     * Returns the choice in words, for the start-up line of a run.
     *
     * @return e.g. {@code "2 workers side by side x 1 native thread on 2 cores"}
     */
    @Override
    public String toString() {
        if (!local) {
            return sideBySide
                    + " workers on the executors of "
                    + master
                    + ", whose spark.executor.cores and OMP_NUM_THREADS size their threads";
        }
        return sideBySide
                + (sideBySide == 1 ? " worker" : " workers side by side")
                + " x "
                + threadsPerWorker
                + (threadsPerWorker == 1 ? " native thread" : " native threads")
                + " on "
                + cores
                + (cores == 1 ? " core" : " cores");
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof WorkerThreads)) {
            return false;
        }
        WorkerThreads other = (WorkerThreads) o;
        return master.equals(other.master)
                && local == other.local
                && sideBySide == other.sideBySide
                && threadsPerWorker == other.threadsPerWorker
                && cores == other.cores;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(master, local, sideBySide, threadsPerWorker, cores);
    }
}
