package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AblateCommandTest {

    private static String[] smallest(Path out) {
        return new String[] {"ablate", "--only", "none,block-7,no-shortcut", "--seeds", "2", "--epochs", "1",
            "--train-limit", "100", "--test-limit", "50", "--batch-size", "50", "--out", out.toString()};
    }

    @Test
    void ablationWritesReportAndReusesFinishedRuns(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("ablation");
        CliRunner.Result first = CliRunner.run(smallest(out));
        assertEquals(0, first.exitCode(), first.err());
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("| block-7 |"), report);
        assertTrue(report.contains("| none |"), report);
        assertTrue(report.contains("on the shortcut as well beats the residual branch alone: **"), report);
        assertTrue(report.contains("block_size 7 is best (vs 1, 3, 5): not run"), report);
        assertTrue(Files.size(out.resolve("report.png")) > 0);
        CliRunner.Result again = CliRunner.run(smallest(out));
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(6, again.out().split("reusing", -1).length - 1, again.out());
    }

    @Test
    void unknownConfigurationExitsTwo(@TempDir Path tmp) {
        CliRunner.Result r = CliRunner.run("ablate", "--only", "block-9", "--out", tmp.resolve("a").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--only must name configurations from"), r.err());
    }
}
