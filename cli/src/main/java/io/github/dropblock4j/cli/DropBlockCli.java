package io.github.dropblock4j.cli;

import io.github.dropblock4j.cli.ablate.AblateCommand;
import io.github.dropblock4j.cli.bench.BenchCommand;
import io.github.dropblock4j.cli.data.MakeEmbeddedCommand;
import io.github.dropblock4j.cli.figure.DemoCommand;
import io.github.dropblock4j.cli.figure.MaskCommand;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.spark.SparkTrainCommand;
import io.github.dropblock4j.cli.train.StopRequest;
import io.github.dropblock4j.cli.train.TrainCommand;
import io.github.dropblock4j.dl4j.OneDnn;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code dropblock4j} command: train, ablate and look at DropBlock (arXiv 1810.12890) on real
 * data.
 *
 * <p>Exit codes: 0 on success; 2 on a usage error, that is a bad option ({@link
 * ParameterException}) or bad input data ({@link BadInputException}), with one line naming the
 * option or file; {@value StopRequest#EXIT_CODE} when Ctrl-C or SIGTERM stopped the command; 1 on
 * any other failure, with one line saying what failed and, with {@code --verbose}, the stack trace.
 */
@Command(
        name = "dropblock4j",
        mixinStandardHelpOptions = true,
        versionProvider = DropBlockCli.Version.class,
        description = "DropBlock (Ghiasi, Lin, Le, NeurIPS 2018) for the JVM: try it on real data.",
        subcommands = {
            TrainCommand.class,
            SparkTrainCommand.class,
            AblateCommand.class,
            MaskCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            MakeEmbeddedCommand.class
        })
public final class DropBlockCli {

    private static final String NAME = "dropblock4j";

    @Option(
            names = "--verbose",
            scope = ScopeType.INHERIT,
            description = "On a failure, print the stack trace as well.")
    private boolean verbose;

    private DropBlockCli() {}

    /**
     * Builds the command line with this project's error handling.
     *
     * @return a picocli command line ready to execute
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DropBlockCli());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler(DropBlockCli::usageError);
        cli.setExecutionExceptionHandler(DropBlockCli::failure);
        return cli;
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println(
                NAME
                        + ": "
                        + e.getMessage()
                        + " (see: "
                        + command.getCommandSpec().qualifiedName()
                        + " --help)");
        UnmatchedArgumentException.printSuggestions(e, err);
        return ExitCode.USAGE;
    }

    private static int failure(Exception e, CommandLine command, ParseResult parsed) {
        PrintWriter err = command.getErr();
        boolean verbose = ((DropBlockCli) command.getCommandSpec().root().userObject()).verbose;
        // Bad options reach the usage handler as ParameterException; bad data arrives here.
        boolean usage = e instanceof BadInputException;
        if (usage) {
            err.println(NAME + ": " + e.getMessage());
        } else {
            err.println(
                    NAME
                            + ": failed: "
                            + e.toString().lines().findFirst().orElse("")
                            + (verbose ? "" : " (--verbose prints the stack trace)"));
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        return usage ? ExitCode.USAGE : ExitCode.SOFTWARE;
    }

    /**
     * Runs the command line and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        // Before anything loads ND4J: train --framework dl4j and spark-train need oneDNN.
        OneDnn.enable();
        System.exit(commandLine().execute(args));
    }

    /** The version the build recorded in {@code version.properties}. */
    static final class Version implements IVersionProvider {

        /** {@inheritDoc} */
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = DropBlockCli.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    throw new IllegalStateException(
                            "version.properties is missing from the class path");
                }
                properties.load(in);
            }
            return new String[] {NAME + " " + properties.getProperty("version")};
        }
    }
}
