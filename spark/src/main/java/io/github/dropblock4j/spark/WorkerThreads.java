package io.github.dropblock4j.spark;

import io.github.dropblock4j.dl4j.Nd4jThreads;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkEnv;

/**
 * How many workers of a Spark training run side by side in this JVM, and how many native threads
 * each may use, so that together they never ask for more threads than the machine has cores.
 *
 * <p>On a {@code local[N]} master every worker is a thread of the driver's JVM, and each calls into
 * ND4J's native code, which sizes its OpenMP and BLAS thread pools for the whole machine (ND4J
 * 1.0.0-M2 reports 4 OpenMP threads on 2 cores). Two workers then ask for twice the cores and spend
 * their time yielding to each other. {@link #apply()} limits ND4J's threads to {@code cores /
 * workers side by side}, at least 1 ({@link Nd4jThreads}): the process-wide pools at once, and each
 * task thread's OpenMP count when {@link ScheduleAwareTrainingMaster}'s worker starts on it. On any
 * other master the workers run in executor JVMs that this one cannot size, and {@link #apply()}
 * does nothing: there each task thread gets {@value #TASK_CPUS} OpenMP threads when the worker
 * starts on it, the CPUs Spark reserves for a task, and the executors' {@code OMP_NUM_THREADS}
 * sizes their process-wide pools (README, "On a cluster").
 *
 * <p>Immutable; {@link #apply()} changes process-wide ND4J settings, and the last call in a JVM is
 * what its task threads get.
 */
public final class WorkerThreads {

    // local, local[4], local[*], local[4,2] (retries): task slots in the driver's JVM.
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    /** The Spark setting of the CPUs each task gets, which sizes an executor's task threads. */
    public static final String TASK_CPUS = "spark.task.cpus";

    // SparkContext.DRIVER_IDENTIFIER, the executor id of a local master's task threads.
    private static final String DRIVER = "driver";

    // What apply() chose, for the task threads of a local master; 0 until then.
    private static volatile int applied;

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
        Nd4jThreads.limit(threadsPerWorker);
        applied = threadsPerWorker;
    }

    /**
     * Sizes the calling worker thread's OpenMP threads as the last {@link #apply()} in this JVM
     * chose; in a cluster's executor, to the CPUs Spark gives each task ({@value #TASK_CPUS},
     * default 1), since the executor runs {@code spark.executor.cores / spark.task.cpus} tasks side
     * by side. OpenMP keeps its count per thread, and Spark's task threads start with OpenMP's
     * default, the cores of the machine.
     */
    static void sizeThisWorkerThread() {
        int threads = applied;
        if (threads > 0) {
            Nd4jThreads.limitThisThread(threads);
            return;
        }
        SparkEnv env = SparkEnv.get();
        if (env != null && !DRIVER.equals(env.executorId())) {
            // An executor runs spark.executor.cores / spark.task.cpus tasks side by side.
            Nd4jThreads.limitThisThread(Math.max(1, env.conf().getInt(TASK_CPUS, 1)));
        }
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
                    + ", spark.task.cpus native threads each (spark.executor.cores / spark.task.cpus"
                    + " side by side per executor)";
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
