package io.github.dropblock4j.cli.spark;

import java.io.PrintWriter;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;

/**
 * Tells the user, in one line on the error console, each executor that {@code spark-train} lost
 * while it ran (its worker died, its JVM was killed, its node left) and what happens next.
 *
 * <p>{@code spark-train} keeps going when it can: each averaging round is a Spark job on
 * minibatches shipped from the driver, and the held-out sets are cached, not checkpointed on the
 * executors, so Spark's task retry ({@code spark.task.maxFailures}) redoes a lost executor's tasks
 * of the round on the executors that are left, and the round is averaged as if nothing happened.
 * Only when the retries run out does the job fail, leaving its run directory unfinished ({@code
 * .partial}) for {@code --resume}. Without this line a user would see only Spark's own log, if its
 * level shows warnings at all.
 *
 * <p>Registered on the context while a run trains and removed by {@link #close()} before the
 * context stops, so the executors a finished job lets go are not reported as lost. Spark calls it
 * on its listener thread.
 */
final class ExecutorLossReport extends SparkListener implements AutoCloseable {

    private final PrintWriter err;
    private SparkContext sc;

    /**
     * Creates a report that is not yet registered.
     *
     * @param err where the lines go
     */
    ExecutorLossReport(PrintWriter err) {
        this.err = Objects.requireNonNull(err);
    }

    /**
     * Starts reporting the executors {@code sc} loses.
     *
     * @param sc the run's Spark context
     * @param err where the lines go
     * @return the report, to close before the context stops
     */
    static ExecutorLossReport register(SparkContext sc, PrintWriter err) {
        ExecutorLossReport report = new ExecutorLossReport(err);
        report.sc = Objects.requireNonNull(sc);
        sc.addSparkListener(report);
        return report;
    }

    /**
     * Prints the line of a lost executor.
     *
     * @param removed Spark's event
     */
    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        synchronized (err) {
            err.println(line(removed.executorId(), removed.reason()));
            err.flush();
        }
    }

    /**
     * The line for a lost executor.
     *
     * @param executorId Spark's id of the executor
     * @param reason why Spark removed it, as Spark says
     * @return one line naming the executor, the reason and what happens next
     */
    static String line(String executorId, String reason) {
        String why = reason == null || reason.isBlank() ? "no reason given" : oneLine(reason);
        return "spark-train: lost executor "
                + executorId
                + " ("
                + why
                + "); Spark redoes its tasks of this averaging round on the executors left and the"
                + " run goes on. If the job fails anyway, continue it with --resume.";
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** Stops reporting: the executors of a job that ends are let go, not lost. */
    @Override
    public void close() {
        if (sc != null) {
            sc.removeSparkListener(this);
        }
    }
}
