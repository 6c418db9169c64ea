package io.github.dropblock4j.cli.train;

import java.io.PrintWriter;

/**
 * Where a run in this process reports, and what stops it: the console for the per-epoch lines, the
 * live progress bar, and the request to stop. The command that starts runs makes it once.
 *
 * @param out where the per-epoch lines go
 * @param progress the live progress bar
 * @param stop the request to stop the run, made by Ctrl-C or SIGTERM
 */
public record RunConsole(PrintWriter out, ProgressBar progress, StopRequest stop) {

    /**
     * Makes the console of a command.
     *
     * @param out where the per-epoch lines go
     * @param err where the progress bar goes, drawn only when the process has a terminal
     * @param stop the request to stop
     * @return the console
     */
    public static RunConsole of(PrintWriter out, PrintWriter err, StopRequest stop) {
        return new RunConsole(out, ProgressBar.onTerminal(err), stop);
    }
}
