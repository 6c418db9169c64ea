package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.djl.DropBlock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

class DropBlockCliTest {

    @Test
    void versionIsTheBuildsVersion() {
        CliRunner.Result r = CliRunner.run("-V");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().matches("dropblock4j \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R"), r.out());
    }

    @Test
    void everyHelpParagraphIsWholeSentences() {
        // Picocli wraps each description string itself and starts every string on a new line,
        // so a sentence split over two strings shows as a line broken in the middle.
        List<String> broken = new ArrayList<>();
        collectBroken(DropBlockCli.commandLine().getCommandSpec(), broken);
        assertEquals(List.of(), broken);
    }

    private static void collectBroken(CommandSpec spec, List<String> broken) {
        List<String> paragraphs = new ArrayList<>(List.of(spec.usageMessage().description()));
        paragraphs.addAll(List.of(spec.usageMessage().header()));
        for (OptionSpec option : spec.options()) {
            paragraphs.addAll(List.of(option.description()));
        }
        for (String paragraph : paragraphs) {
            if (!paragraph.strip().endsWith(".")) {
                broken.add(spec.qualifiedName() + ": " + paragraph);
            }
        }
        for (CommandLine sub : spec.subcommands().values()) {
            collectBroken(sub.getCommandSpec(), broken);
        }
    }

    @Test
    void failureInsideALibraryExitsOneWithOneLine() {
        Run r = run("fails");
        assertEquals(1, r.exitCode());
        assertEquals(
                List.of(
                        "dropblock4j: failed: java.lang.IllegalArgumentException: dropProb must"
                                + " be in [0, 1), got 2.0 (--verbose prints the stack trace)"),
                r.err().lines().toList());
    }

    @Test
    void verbosePrintsTheStackTraceAfterTheLine() {
        for (String[] args :
                List.of(new String[] {"--verbose", "fails"}, new String[] {"fails", "--verbose"})) {
            Run r = run(args);
            assertEquals(1, r.exitCode());
            List<String> lines = r.err().lines().toList();
            assertEquals(
                    "dropblock4j: failed: java.lang.IllegalArgumentException: dropProb must"
                            + " be in [0, 1), got 2.0",
                    lines.get(0));
            assertTrue(
                    lines.stream().anyMatch(l -> l.contains("at io.github.dropblock4j")), r.err());
        }
    }

    @Test
    void badInputExitsTwoWithOneLine() {
        Run r = run("bad-input");
        assertEquals(2, r.exitCode());
        assertEquals(List.of("dropblock4j: --data x: no such directory"), r.err().lines().toList());
    }

    @Test
    void aCommandsOwnOptionCheckIsAUsageError() {
        Run r = run("checks-itself");
        assertEquals(2, r.exitCode());
        assertEquals(
                List.of(
                        "dropblock4j: --n must be >= 1, got 0 (see: dropblock4j checks-itself --help)"),
                r.err().lines().toList());
    }

    @Test
    void illegalArgumentFromACommandsOwnCodeIsAFailure() {
        // Only ParameterException and BadInputException are usage errors, wherever thrown.
        Run r = run("throws-illegal-argument");
        assertEquals(1, r.exitCode());
        assertEquals(
                List.of(
                        "dropblock4j: failed: java.lang.IllegalArgumentException: n must be >= 1,"
                                + " got 0 (--verbose prints the stack trace)"),
                r.err().lines().toList());
    }

    @Test
    void unknownOptionExitsTwoPointingToTheHelp() {
        CliRunner.Result r = CliRunner.run("train", "--epoch", "3");
        assertEquals(2, r.exitCode());
        assertTrue(
                r.err()
                        .startsWith(
                                "dropblock4j: Unknown options: '--epoch', '3' (see:"
                                        + " dropblock4j train --help)"),
                r.err());
    }

    private record Run(int exitCode, String err) {}

    private static Run run(String... args) {
        CommandLine cli = DropBlockCli.commandLine();
        cli.addSubcommand(new Fails())
                .addSubcommand(new BadInput())
                .addSubcommand(new ChecksItself())
                .addSubcommand(new ThrowsIllegalArgument());
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        return new Run(cli.execute(args), err.toString());
    }

    /** Fails inside a library, as an engine error would. */
    @Command(name = "fails")
    static final class Fails implements Callable<Integer> {
        @Override
        public Integer call() {
            DropBlock.builder().optDropProb(2f).build();
            return 0;
        }
    }

    /** Meets bad input data. */
    @Command(name = "bad-input")
    static final class BadInput implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new BadInputException("--data x: no such directory");
        }
    }

    /** Checks an option itself and reports it as picocli's ParameterException, as bench does. */
    @Command(name = "checks-itself")
    static final class ChecksItself implements Callable<Integer> {
        @Spec private CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "--n must be >= 1, got 0");
        }
    }

    /** Throws an IllegalArgumentException from its own code: a bug, not a usage error. */
    @Command(name = "throws-illegal-argument")
    static final class ThrowsIllegalArgument implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalArgumentException("n must be >= 1, got 0");
        }
    }
}
