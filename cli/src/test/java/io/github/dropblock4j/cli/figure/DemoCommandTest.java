package io.github.dropblock4j.cli.figure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.CliRunner;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

    @Test
    void printsTheAskedRateAndAMaskOfTheGivenSize() {
        CliRunner.Result r =
                CliRunner.run(
                        "demo",
                        "--size",
                        "9",
                        "--block-size",
                        "3",
                        "--drop-prob",
                        "0.2",
                        "--seed",
                        "3");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(
                lines.get(0)
                        .startsWith("DropBlock on (32, 64, 9, 9), block 3: asked drop rate 0.2000"),
                lines.get(0));
        // The header, the legend and one row of '#' and '.' per row of the map.
        assertEquals(2 + 9, lines.size(), r.out());
        assertTrue(lines.get(2).matches("[#.]{9}"), lines.get(2));
    }

    @Test
    void sameSeedSameMask() {
        String[] args = {"demo", "--size", "12", "--seed", "5"};
        assertEquals(CliRunner.run(args).out(), CliRunner.run(args).out());
    }

    @Test
    void badDropProbabilityIsAUsageError() {
        CliRunner.Result r = CliRunner.run("demo", "--drop-prob", "1");
        assertEquals(2, r.exitCode());
        assertTrue(
                r.err()
                        .contains(
                                "Invalid value for option '--drop-prob': must be in [0, 1), got 1"),
                r.err());
    }
}
