package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.DropBlockCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MakeEmbeddedCommandTest {

    @TempDir Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = DropBlockCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void writesAStratifiedSubsetThatReadsBack() throws IOException {
        Path full = Files.createDirectory(dir.resolve("full"));
        Path subset = dir.resolve("subset");
        SyntheticData.writeIdxDirectory(full, 50, 30, 4, true);

        int code =
                run(
                        "make-embedded",
                        "--from",
                        full.toString(),
                        "--out",
                        subset.toString(),
                        "--train-per-class",
                        "2",
                        "--test-per-class",
                        "1",
                        "--seed",
                        "5");

        assertEquals(0, code, err.toString());
        DataSource written = DataSource.directory(subset);
        DataSource source = DataSource.directory(full);
        LabeledImages expected = source.train().stratifiedSubset(2, 5);
        int[] twoEach = new int[10];
        Arrays.fill(twoEach, 2);
        assertArrayEquals(twoEach, written.train().classCounts());
        assertArrayEquals(expected.pixels(), written.train().pixels());
        assertArrayEquals(expected.labels(), written.train().labels());
        assertEquals(10, written.test().size());
        assertTrue(out.toString().contains("20 images of 1 x 4 x 4"), out.toString());
    }

    @Test
    void missingSourceExitsWithBadInput() {
        Path absent = dir.resolve("absent");
        int code = run("make-embedded", "--from", absent.toString(), "--out", dir.toString());
        assertEquals(CommandLine.ExitCode.USAGE, code);
        assertEquals(
                "dropblock4j: --data " + absent + ": no such directory", err.toString().trim());
    }

    @Test
    void perClassBelowOneIsRejected() {
        int code = run("make-embedded", "--out", dir.toString(), "--test-per-class", "0");
        assertEquals(CommandLine.ExitCode.USAGE, code);
        assertEquals(
                "dropblock4j: --test-per-class must be >= 1, got 0"
                        + " (see: dropblock4j make-embedded --help)",
                err.toString().trim());
    }

    @Test
    void isHiddenFromTheHelp() {
        run("--help");
        assertFalse(out.toString().contains("make-embedded"), out.toString());
        assertTrue(out.toString().contains("demo"), out.toString());
    }
}
