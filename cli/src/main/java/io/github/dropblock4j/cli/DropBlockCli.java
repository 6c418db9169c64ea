package io.github.dropblock4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code dropblock4j} command: train, ablate and look at DropBlock (arXiv 1810.12890) on real
 * data.
 *
 * <p>Exit codes: 0 on success, 2 on bad usage or bad input data ({@link
 * IllegalArgumentException}, {@link BadInputException}), 1 on any other failure.
 */
@Command(
        name = "dropblock4j",
        mixinStandardHelpOptions = true,
        version = "dropblock4j 0.1.0",
        description = "DropBlock (Ghiasi, Lin, Le, NeurIPS 2018) for the JVM: try it on real data.",
        subcommands = {
            TrainCommand.class,
            AblateCommand.class,
            MaskCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            MakeEmbeddedCommand.class
        })
public final class DropBlockCli {

    /** Exit code for bad usage or bad input data. */
    public static final int EXIT_BAD_INPUT = 2;

    private DropBlockCli() {}

    /**
     * Builds the command line with this project's error handling.
     *
     * @return a picocli command line ready to execute
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DropBlockCli());
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    if (e instanceof IllegalArgumentException || e instanceof BadInputException) {
                        commandLine.getErr().println("dropblock4j: " + e.getMessage());
                        return EXIT_BAD_INPUT;
                    }
                    commandLine.getErr().println("dropblock4j: failed: " + e);
                    e.printStackTrace(commandLine.getErr());
                    return 1;
                });
        return cli;
    }

    /**
     * Runs the command line and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
