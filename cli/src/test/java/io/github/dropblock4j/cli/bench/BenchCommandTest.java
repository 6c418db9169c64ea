package io.github.dropblock4j.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.bench.Contender;
import io.github.dropblock4j.cli.CliRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BenchCommandTest {

    @Test
    void printsARowPerCaseAndPassWithEveryContenderAndTheRatios() {
        CliRunner.Result r =
                CliRunner.run(
                        "bench",
                        "--case",
                        "2x4x9x9/3",
                        "--case",
                        "1x2x7x7/7",
                        "--iterations",
                        "2",
                        "--warmup",
                        "1");
        assertEquals(0, r.exitCode(), r.err());
        String header =
                r.out().lines().filter(l -> l.startsWith("| case")).findFirst().orElseThrow();
        for (Contender c : Contender.values()) {
            assertTrue(header.contains(c.label()), header);
        }
        assertTrue(header.endsWith("| 1/2 | 1/3 | 4/1 |"), header);
        long rows =
                r.out()
                        .lines()
                        .filter(l -> l.startsWith("| 2x4x9x9/3 |") || l.startsWith("| 1x2x7x7/7 |"))
                        .count();
        assertEquals(4, rows, r.out());
        String row =
                r.out()
                        .lines()
                        .filter(l -> l.startsWith("| 2x4x9x9/3 | fwd+bwd |"))
                        .findFirst()
                        .orElseThrow();
        // Ten cells after the case and the pass: five medians and three ratios, all numbers.
        String[] cells = row.substring(1, row.length() - 1).split("\\|");
        assertEquals(10, cells.length, row);
        for (int i = 2; i < cells.length; i++) {
            Double.parseDouble(cells[i].trim());
        }
    }

    @Test
    void ratiosOfContendersLeftOutAreDashes() {
        CliRunner.Result r =
                CliRunner.run(
                        "bench",
                        "--case",
                        "1x2x7x7/3",
                        "--iterations",
                        "1",
                        "--warmup",
                        "0",
                        "--contender",
                        "DROPBLOCK",
                        "--contender",
                        "READY_MASK");
        assertEquals(0, r.exitCode(), r.err());
        String row =
                r.out()
                        .lines()
                        .filter(l -> l.startsWith("| 1x2x7x7/3 | fwd |"))
                        .findFirst()
                        .orElseThrow();
        assertTrue(row.endsWith(" - | - |"), row);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "--iterations; 0; --iterations must be in [1, 10000], got 0",
                "--warmup; -1; --warmup must be in [0, 10000], got -1",
                "--drop-prob; 1.0; Invalid value for option '--drop-prob': must be in [0, 1), got"
                        + " 1.0",
                "--case; 32x1024x14/7; Invalid value for option '--case' (NxCxHxW/BLOCK): case"
                        + " must look like NxCxHxW/block, e.g. 32x1024x14x14/7, got '32x1024x14/7'",
                "--case; 32x0x14x14/7; Invalid value for option '--case' (NxCxHxW/BLOCK): shape"
                        + " must be 4 positive dimensions (N, C, H, W), got (32, 0, 14, 14)",
                "--case; 1x1x7x7/0; Invalid value for option '--case' (NxCxHxW/BLOCK): blockSize"
                        + " must be >= 1, got 0"
            })
    void badOptionsExitTwoNamingTheValue(String option, String value, String message) {
        CliRunner.Result r = CliRunner.run("bench", option, value);
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(message), r.err());
        // Reported by picocli's usage handler, which points to the help.
        assertTrue(r.err().contains("(see: dropblock4j bench --help)"), r.err());
    }
}
