package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.CliRunner;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AblateCommandTest {

    // Three arms, two seeds, one drop probability (so no selection runs beyond the recipe's own):
    // six runs of one epoch on 100 images.
    private static String[] smallest(Path out) {
        return new String[] {
            "ablate",
            "--only",
            "none,dropblock,residual-only",
            "--seeds",
            "2",
            "--selection-seeds",
            "1",
            "--drop-probs",
            "0.1",
            "--epochs",
            "1",
            "--train-limit",
            "100",
            "--test-limit",
            "50",
            "--batch-size",
            "50",
            "--out",
            out.toString()
        };
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void ablationWritesReportAndReusesFinishedRuns(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("ablation");
        CliRunner.Result first = CliRunner.run(smallest(out));
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(6, count(first.out(), "(?m)^training "), first.out());
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(
                report.contains("| dropblock | DropBlock, block 7: the paper's recipe | 0.1 | 2 |"),
                report);
        assertTrue(report.contains("| none | no regularization | - | 2 |"), report);
        assertTrue(
                report.contains(
                        "| DropBlock on the shortcut as well beats the residual branch alone |"
                                + " residual-only | 2 |"),
                report);
        assertTrue(report.contains("- block_size 7 is best (vs 3 and 5): **not run**"), report);
        assertTrue(
                report.contains("./dropblock4j ablate --only none,dropblock,residual-only"),
                report);
        for (String png : new String[] {"report.png", "overfitting.png"}) {
            assertTrue(Files.size(out.resolve(png)) > 0, png);
        }
        assertTrue(
                Files.exists(
                        out.resolve("runs")
                                .resolve("dropblock-p0.1-seed2")
                                .resolve("metrics.csv")));
        CliRunner.Result again = CliRunner.run(smallest(out));
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(0, count(again.out(), "(?m)^training "), again.out());
        assertTrue(count(again.out(), "(?m)^reusing ") >= 6, again.out());
    }

    @Test
    void twoAblationsSharingAnOutputDirectoryTrainEachRunOnce(@TempDir Path tmp) throws Exception {
        // Two processes, as a user would start them (one engine trains one model at a time).
        Path out = tmp.resolve("shared");
        List<String> jvm = List.of("-Dai.djl.pytorch.num_threads=1");
        Process a = ChildCli.start(tmp.resolve("a.log"), jvm, smallest(out));
        Process b = ChildCli.start(tmp.resolve("b.log"), jvm, smallest(out));
        try {
            assertTrue(a.waitFor(10, TimeUnit.MINUTES), Files.readString(tmp.resolve("a.log")));
            assertTrue(b.waitFor(10, TimeUnit.MINUTES), Files.readString(tmp.resolve("b.log")));
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
        assertEquals(0, a.exitValue(), Files.readString(tmp.resolve("a.log")));
        assertEquals(0, b.exitValue(), Files.readString(tmp.resolve("b.log")));
        String logs =
                Files.readString(tmp.resolve("a.log")) + Files.readString(tmp.resolve("b.log"));
        assertEquals(6, count(logs, "(?m)^training "), logs);
        try (var runs = Files.list(out.resolve("runs"))) {
            assertEquals(6, runs.filter(Files::isDirectory).count());
        }
    }

    @Test
    void choosingAmongDropProbabilitiesNeedsAValidationSplit(@TempDir Path tmp) {
        assertUsageError(
                "--val-split must be > 0 to choose among --drop-probs [0.1, 0.2]",
                tmp,
                "--drop-probs",
                "0.1,0.2",
                "--val-split",
                "0");
    }

    @Test
    void unknownArmExitsTwo(@TempDir Path tmp) {
        assertUsageError(
                "--only must name arms of the paper study, [none, dropout",
                tmp,
                "--only",
                "block-9");
    }

    @Test
    void augmentedStudyTrainsTheDecisiveArmsOnMoreSeedsAndReadsTheRecalibratedArm(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("augmented");
        CliRunner.Result r =
                CliRunner.run(
                        "ablate",
                        "--study",
                        "augmented",
                        "--only",
                        "none,dropout,fitted,fitted-recalibrated",
                        "--seeds",
                        "1",
                        "--decisive-seeds",
                        "2",
                        "--drop-probs",
                        "0.1,0.2",
                        "--selection-seeds",
                        "1",
                        "--epochs",
                        "2",
                        "--selection-epochs",
                        "1",
                        "--train-limit",
                        "100",
                        "--val-split",
                        "20",
                        "--test-limit",
                        "50",
                        "--batch-size",
                        "50",
                        "--out",
                        out.toString());
        assertEquals(0, r.exitCode(), r.err());
        // Selection: dropout and fitted at 0.1 and 0.2 for 1 epoch, in a folder of their own.
        // Then none and fitted on 2 seeds, dropout on 1; the recalibrated arm trains nothing.
        assertEquals(4 + 5, count(r.out(), "(?m)^training "), r.out());
        Path select = out.resolve("runs").resolve("select");
        for (String run : List.of("dropout-p0.1", "dropout-p0.2", "fitted-p0.1", "fitted-p0.2")) {
            TrainConfig selection =
                    RunDirectory.readSummary(select.resolve(run + "-seed1")).orElseThrow().config();
            assertEquals(1, selection.epochs(), run);
        }
        Path fittedRun;
        try (var runs = Files.list(out.resolve("runs"))) {
            fittedRun =
                    runs.filter(d -> d.getFileName().toString().matches("fitted-p0\\.[12]-seed2"))
                            .findFirst()
                            .orElseThrow();
        }
        TrainConfig fitted = RunDirectory.readSummary(fittedRun).orElseThrow().config();
        assertEquals(2, fitted.epochs());
        assertEquals(List.of(5, 3), fitted.blockSizePerStage());
        assertTrue(fitted.augment() && fitted.recalibrateBn(), fitted.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(
                report.startsWith(
                        "# DropBlock with augmentation, fitted blocks and recalibrated batch"
                                + " norms"),
                report);
        assertTrue(report.contains("| fitted-recalibrated | the fitted arm's models"), report);
        assertTrue(
                report.contains(
                        "| recalibrating the batch norms improves fitted DropBlock | fitted | 2 |"),
                report);
        assertTrue(report.contains("| fitted DropBlock beats dropout | dropout |"), report);
        assertTrue(
                report.contains("- blocks fitted to the maps beat block 7: **not run**"), report);
    }

    @Test
    void unknownStudyAndSelectionLongerThanTheRunsExitTwo(@TempDir Path tmp) {
        assertUsageError(
                "--study must be one of [paper, augmented], got cifar", tmp, "--study", "cifar");
        assertUsageError(
                "--selection-epochs must be in [1, --epochs (10)], got 30",
                tmp,
                "--study",
                "augmented",
                "--epochs",
                "10",
                "--selection-epochs",
                "30");
    }

    @Test
    void seedOptionsAreCheckedAsGivenAndTheirDefaultsNeverFail(@TempDir Path tmp) {
        // More --seeds than the augmented study's 8 decisive ones: the decisive default follows
        // --seeds, so the first error is the one planted in --selection-epochs.
        assertUsageError(
                "--selection-epochs must be in [1, --epochs (10)], got 11",
                tmp,
                "--study",
                "augmented",
                "--seeds",
                "10",
                "--epochs",
                "10",
                "--selection-epochs",
                "11");
        // 0 is a value like any other, not "the default".
        assertUsageError(
                "--decisive-seeds must be in [--seeds (5), 100], got 0",
                tmp,
                "--study",
                "augmented",
                "--decisive-seeds",
                "0");
        assertUsageError(
                "--selection-epochs must be in [1, --epochs (3)], got 0",
                tmp,
                "--selection-epochs",
                "0");
        // The paper study has no decisive arms for the option to give more seeds to.
        assertUsageError(
                "--decisive-seeds applies to a study with decisive arms (augmented); the paper"
                        + " study has none, got --decisive-seeds 10",
                tmp,
                "--decisive-seeds",
                "10");
    }

    @Test
    void anArmThatReadsAnothersRunsNeedsThatArmToo(@TempDir Path tmp) {
        assertUsageError(
                "--only fitted-recalibrated reads the runs of fitted, which --only leaves out;"
                        + " name both, got none,fitted-recalibrated",
                tmp,
                "--study",
                "augmented",
                "--only",
                "none,fitted-recalibrated");
    }

    @Test
    void dropProbIsNotAnOptionAsTheArmsChooseFromDropProbs(@TempDir Path tmp) {
        assertUsageError("Unknown options: '--drop-prob', '0.2'", tmp, "--drop-prob", "0.2");
    }

    /**
     * Runs {@code ablate} with the arguments and an output directory under {@code tmp}; checks that
     * it exits 2 with the message and leaves nothing behind.
     */
    private static void assertUsageError(String message, Path tmp, String... args) {
        Path out = tmp.resolve("out");
        String[] all =
                Stream.concat(
                                Stream.of("ablate"),
                                Stream.concat(Stream.of(args), Stream.of("--out", out.toString())))
                        .toArray(String[]::new);
        CliRunner.Result r = CliRunner.run(all);
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertFalse(Files.exists(out), "a usage error wrote " + out);
    }
}
