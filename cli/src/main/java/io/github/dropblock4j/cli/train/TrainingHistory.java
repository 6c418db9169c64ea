package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.figure.CurvesPlot;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunDirectory.IoConsumer;
import io.github.dropblock4j.cli.run.RunDirectory.PartialEpoch;
import io.github.dropblock4j.cli.run.RunDirectory.State;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The epochs a run has finished and what it writes about them, the same for every run (DJL, DL4J,
 * Spark): each epoch's {@link EpochMetrics} row and console line, the wall time, the checkpoint
 * after an epoch or inside one and the stop that follows it, and at the end the {@link RunSummary}
 * and the finished run directory with {@code curves.png}. A resumed run starts from its
 * checkpoint's epochs and wall time. Not thread safe: one run's loop uses it.
 */
public final class TrainingHistory {

    private final TrainConfig config;
    private final RunDirectory dir;
    private final PrintWriter out;
    private final State resumed;
    private final List<EpochMetrics> epochs;
    private double wallSeconds;
    private long epochStart;

    /**
     * Starts the history of a run, from the checkpoint in its directory if there is one.
     *
     * @param config the run's settings
     * @param dir the run directory
     * @param out where the per-epoch lines go
     * @throws io.github.dropblock4j.cli.input.BadInputException if the checkpoint is unreadable
     */
    public TrainingHistory(TrainConfig config, RunDirectory dir, PrintWriter out) {
        this.config = config;
        this.dir = dir;
        this.out = out;
        this.resumed = dir.loadState().orElse(null);
        this.epochs = new ArrayList<>(resumed == null ? List.of() : resumed.epochs());
        this.wallSeconds = resumed == null ? 0 : resumed.wallSeconds();
    }

    /**
     * Tells whether the run continues from a checkpoint.
     *
     * @return true if resumed
     */
    public boolean isResumed() {
        return resumed != null;
    }

    /**
     * Returns the first epoch still to train.
     *
     * @return the epoch, 1-based
     */
    public int firstEpoch() {
        return resumed == null ? 1 : resumed.epochsDone() + 1;
    }

    /**
     * Returns the training steps done before this process started.
     *
     * @return the steps of the checkpoint, 0 for a new run
     */
    public int stepsBefore() {
        return resumed == null ? 0 : resumed.steps();
    }

    /**
     * Returns what the checkpoint says was done of an epoch, for a run stopped inside it.
     *
     * @param epoch the epoch, 1-based
     * @return the batches done of it, none if the checkpoint is not inside it
     */
    public PartialEpoch doneOf(int epoch) {
        return resumed != null && resumed.partial() != null && resumed.partial().epoch() == epoch
                ? resumed.partial()
                : new PartialEpoch(epoch, 0, 0, Double.NaN, Double.NaN, 0);
    }

    /** Starts the clock of an epoch: its wall time counts from here. */
    public void startEpoch() {
        epochStart = System.nanoTime();
    }

    /**
     * Returns the time since {@link #startEpoch()}.
     *
     * @return seconds
     */
    public double epochSeconds() {
        return (System.nanoTime() - epochStart) / 1e9;
    }

    /**
     * Records a finished epoch: adds its row, prints its line and adds its wall time. The line
     * shows the accuracies and the validation and test figures only where the epoch measured them
     * (not NaN).
     *
     * @param m what the epoch measured
     */
    public void endEpoch(EpochMetrics m) {
        epochs.add(m);
        out.printf(
                Locale.ROOT,
                "epoch %d/%d  step %d  train loss %.4f%s%s%s%s  drop %.4f  lr %.4g"
                        + "  %.1f s  %.0f img/s%s%n",
                m.epoch(),
                config.epochs(),
                m.step(),
                m.trainLoss(),
                Double.isNaN(m.trainAccuracy())
                        ? ""
                        : String.format(Locale.ROOT, "  train acc %.4f", m.trainAccuracy()),
                Double.isNaN(m.trainEvalAccuracy())
                        ? ""
                        : String.format(
                                Locale.ROOT, "  train eval acc %.4f", m.trainEvalAccuracy()),
                Double.isNaN(m.validationAccuracy())
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "  val loss %.4f  val acc %.4f",
                                m.validationLoss(),
                                m.validationAccuracy()),
                Double.isNaN(m.testAccuracy())
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "  test loss %.4f  test acc %.4f",
                                m.testLoss(),
                                m.testAccuracy()),
                m.dropProb(),
                m.learningRate(),
                m.seconds(),
                m.samplesPerSecond(),
                Double.isNaN(m.residentMb())
                        ? ""
                        : String.format(Locale.ROOT, "  rss %.0f MiB", m.residentMb()));
        out.flush();
        wallSeconds += epochSeconds();
    }

    /**
     * Writes the checkpoint of the last finished epoch, and stops the run there if a stop was
     * requested and epochs remain.
     *
     * @param writeModel writes the model into the checkpoint folder
     * @param stop the request to stop
     * @throws IOException if the checkpoint cannot be written
     * @throws RunStoppedException if a stop was requested; the checkpoint is written first
     */
    public void checkpoint(IoConsumer<Path> writeModel, StopRequest stop) throws IOException {
        EpochMetrics last = last();
        dir.saveCheckpoint(
                writeModel,
                new State(config, last.epoch(), last.step(), epochs, wallSeconds, null));
        if (stop.isRequested() && last.epoch() < config.epochs()) {
            throw new RunStoppedException(
                    "stopped after epoch "
                            + last.epoch()
                            + " of "
                            + config.epochs()
                            + "; checkpoint in "
                            + dir.partial());
        }
    }

    /**
     * Writes a checkpoint inside an epoch, for a run stopped there.
     *
     * @param writeModel writes the model into the checkpoint folder
     * @param trained what was done of the epoch
     * @param steps the global training steps done
     * @return the exception that stops the run, for the caller to throw
     * @throws IOException if the checkpoint cannot be written
     */
    public RunStoppedException stopInside(
            IoConsumer<Path> writeModel, PartialEpoch trained, int steps) throws IOException {
        dir.saveCheckpoint(
                writeModel,
                new State(
                        config,
                        trained.epoch() - 1,
                        steps,
                        epochs,
                        wallSeconds + epochSeconds(),
                        trained));
        return new RunStoppedException(
                "stopped in epoch "
                        + trained.epoch()
                        + " of "
                        + config.epochs()
                        + " after batch "
                        + trained.batches()
                        + "; checkpoint in "
                        + dir.partial());
    }

    /**
     * Writes the summary, the model and {@code curves.png}, renames the run directory into place,
     * and prints the final line. The figures are the last epoch's.
     *
     * @param writeModel writes the model into the {@code model} folder
     * @param where what the curves' title adds after the model and regularizer (e.g. "DL4J"), or
     *     empty
     * @param imagesPerEpoch the training images of one epoch, for the throughput
     * @return the summary
     * @throws IOException if a file cannot be written
     */
    public RunSummary finish(IoConsumer<Path> writeModel, String where, double imagesPerEpoch)
            throws IOException {
        EpochMetrics last = last();
        double trainSeconds = epochs.stream().mapToDouble(EpochMetrics::seconds).sum();
        RunSummary summary =
                new RunSummary(
                        config,
                        List.copyOf(epochs),
                        last.testAccuracy(),
                        last.testLoss(),
                        last.validationAccuracy(),
                        wallSeconds,
                        imagesPerEpoch * epochs.size() / trainSeconds,
                        last.step());
        String title =
                config.model()
                        + ", "
                        + config.regularizer().optionValue()
                        + (where.isEmpty() ? "" : ", " + where);
        dir.finish(summary, writeModel, png -> CurvesPlot.write(summary.epochs(), title, png));
        out.printf(
                Locale.ROOT,
                "final test accuracy %.4f, test loss %.4f, %.0f s, %.0f img/s%nresults in %s%n",
                summary.finalTestAccuracy(),
                summary.finalTestLoss(),
                summary.wallSeconds(),
                summary.samplesPerSecond(),
                dir.out());
        out.flush();
        return summary;
    }

    private EpochMetrics last() {
        return epochs.get(epochs.size() - 1);
    }
}
