package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.CliRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The committed studies under docs/ recompute to their committed reports: each report's "Reproduce
 * with" command, run with {@code --report-only} over a copy of the committed run files, writes the
 * same report.md, character for character. A run committed without its report being rewritten, or a
 * change to the report's code that would change a published figure, fails here.
 */
class CommittedStudiesTest {

    /** The files of a run that are committed; models and plots are not. */
    private static final Set<String> COMMITTED =
            Set.of("config.json", "metrics.csv", "summary.json");

    /** Surefire runs in the module's directory, as LauncherIT relies on too. */
    private static Path repositoryRoot() {
        return Path.of("").toAbsolutePath().getParent();
    }

    /** The command in the report's first bash block, as typed. */
    private static String reproduceCommand(String report) {
        List<String> lines = report.lines().toList();
        int fence = lines.indexOf("```bash");
        assertTrue(fence >= 0 && fence + 1 < lines.size(), "no ```bash block in the report");
        return lines.get(fence + 1).strip();
    }

    private static void copyRunFiles(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path relative = from.relativize(file);
                boolean partial = false;
                for (Path part : relative) {
                    partial |= part.toString().endsWith(".partial");
                }
                if (partial || !COMMITTED.contains(file.getFileName().toString())) {
                    continue;
                }
                Path target = to.resolve(relative.toString());
                Files.createDirectories(target.getParent());
                Files.copy(file, target);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"docs/ablation", "docs/ablation-augmented"})
    void committedRunsRecomputeToTheCommittedReport(String study, @TempDir Path tmp)
            throws IOException {
        Path dir = repositoryRoot().resolve(study);
        String committed = Files.readString(dir.resolve("report.md"));
        String command = reproduceCommand(committed);
        List<String> args = new ArrayList<>(Arrays.asList(command.split(" ")));
        assertEquals("./dropblock4j", args.remove(0), command);
        int out = args.indexOf("--out");
        assertTrue(out >= 0 && out + 1 < args.size(), "no --out in " + command);
        String published = args.get(out + 1);
        assertEquals(study, published, "the report's --out");
        Path copy = tmp.resolve("study");
        copyRunFiles(dir.resolve("runs"), copy.resolve("runs"));
        args.set(out + 1, copy.toString());
        args.add("--report-only");

        CliRunner.Result result = CliRunner.run(args.toArray(String[]::new));

        assertEquals(0, result.exitCode(), result.err());
        String recomputed =
                Files.readString(copy.resolve("report.md"))
                        .replace("--out " + copy, "--out " + published);
        assertEquals(
                committed,
                recomputed,
                study
                        + "/report.md is not what its committed runs give: rewrite it with `"
                        + command
                        + " --report-only`");
    }
}
