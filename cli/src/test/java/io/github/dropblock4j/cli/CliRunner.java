package io.github.dropblock4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Test support: runs the command line in-process and captures what it prints. */
public final class CliRunner {

    /**
     * What one run printed and returned.
     *
     * @param exitCode the exit code
     * @param out standard output
     * @param err standard error
     */
    public record Result(int exitCode, String out, String err) {}

    private CliRunner() {}

    /**
     * Runs the command line.
     *
     * @param args the arguments
     * @return the exit code and what was printed
     */
    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = DropBlockCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
