package io.github.dropblock4j.cli.train;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line live progress bar for an epoch: batches done, loss, throughput and the current drop
 * probability. Redrawn in place with a carriage return; silent when the output is not a terminal,
 * so logs get only the per-epoch lines.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;
    // Redraw at most this often, so a fast loop does not flood the terminal.
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter err;
    private final boolean live;
    private long lastDraw;

    /**
     * Creates a bar.
     *
     * @param err where the bar is drawn
     * @param live whether to draw it at all: true when the output is a terminal
     */
    public ProgressBar(PrintWriter err, boolean live) {
        this.err = err;
        this.live = live;
    }

    /**
     * Creates a bar drawn only when the process has a terminal, so logs get only the per-epoch
     * lines.
     *
     * @param err where the bar is drawn
     * @return the bar
     */
    public static ProgressBar onTerminal(PrintWriter err) {
        return new ProgressBar(err, System.console() != null);
    }

    /**
     * Redraws the bar, at most five times a second and always for the last batch.
     *
     * @param epoch the epoch, 1-based
     * @param epochs the epochs of the run
     * @param batch the batches done in this epoch
     * @param batches the batches of the epoch
     * @param loss the training loss so far
     * @param imagesPerSecond the training throughput
     * @param dropProb the current drop probability
     */
    public void update(
            int epoch,
            int epochs,
            int batch,
            int batches,
            double loss,
            double imagesPerSecond,
            double dropProb) {
        if (!live) {
            return;
        }
        long now = System.nanoTime();
        if (batch < batches && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        int filled = (int) ((long) WIDTH * batch / Math.max(1, batches));
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        err.printf(
                Locale.ROOT,
                "\repoch %d/%d [%s] %d/%d loss %.4f %.0f img/s drop %.4f ",
                epoch,
                epochs,
                bar,
                batch,
                batches,
                loss,
                imagesPerSecond,
                dropProb);
        err.flush();
    }

    /** Clears the bar, so that the next line starts clean. */
    public void finish() {
        if (live) {
            err.print("\r" + " ".repeat(100) + "\r");
            err.flush();
        }
    }
}
