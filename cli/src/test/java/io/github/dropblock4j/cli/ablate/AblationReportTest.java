package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.HeldOutFigures;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report computed from small fixture runs written as finished run directories. */
class AblationReportTest {

    private static final Gson GSON =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();
    private static final double TOLERANCE = 1e-12;

    // Final test accuracies by seed. The recipe beats "none" by 5-6 points on every seed and loses
    // to dropout by 4-5 points on every seed: both differences are far outside their noise.
    private static final double[] NONE = {0.780, 0.790, 0.785};
    private static final double[] DROPOUT = {0.880, 0.880, 0.885};
    private static final double[] RECIPE = {0.835, 0.850, 0.840};

    private static AblationSettings settings(Path out) {
        TrainConfig base = TrainConfig.builder().optEpochs(2).optValSplit(100).build();
        List<AblationPlan.Arm> arms =
                List.of(
                        AblationPlan.PAPER.arm("none"),
                        AblationPlan.PAPER.arm("dropout"),
                        AblationPlan.PAPER.arm(AblationPlan.RECIPE));
        return new AblationSettings(
                AblationPlan.PAPER,
                out,
                base,
                arms,
                new float[] {0.1f, 0.2f},
                2,
                base.epochs(),
                3,
                3,
                "./dropblock4j ablate ...");
    }

    /** Writes a finished run whose last epoch has the given accuracies. */
    private static void run(
            AblationSettings s, String arm, float p, int seed, double validation, double test)
            throws IOException {
        write(
                s.runDirectory(AblationPlan.PAPER.arm(arm), p, seed),
                AblationPlan.PAPER.arm(arm).configure(s.base(), p, seed),
                validation,
                test,
                null);
    }

    /** Writes a finished run into a directory. */
    private static void write(
            Path dir,
            TrainConfig config,
            double validation,
            double test,
            HeldOutFigures recalibrated)
            throws IOException {
        float p = config.dropProb();
        List<EpochMetrics> epochs =
                List.of(
                        EpochMetrics.builder()
                                .setEpoch(1)
                                .setStep(10)
                                .optTrain(1.0, 0.6)
                                .optValidation(1.1, validation - 0.1)
                                .optSchedules(p / 2, 0.05)
                                .optSpeed(1, 100)
                                .optResidentMb(500)
                                .build(),
                        EpochMetrics.builder()
                                .setEpoch(2)
                                .setStep(20)
                                .optTrain(0.2, 0.95)
                                .optTest(0.5, test)
                                .optValidation(0.6, validation)
                                .optSchedules(p, 0)
                                .optSpeed(1, 100)
                                .optResidentMb(500)
                                .build());
        RunSummary summary =
                new RunSummary(config, epochs, test, 0.5, validation, 3, 100, 20, recalibrated);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(RunDirectory.SUMMARY), GSON.toJson(summary));
    }

    @Test
    void augmentedStudyChoosesOnShorterRunsOfItsOwnAndReadsTheFittedRunsRecalibrated(
            @TempDir Path tmp) throws IOException {
        AblationPlan plan = AblationPlan.AUGMENTED;
        TrainConfig base =
                TrainConfig.builder()
                        .optEpochs(2)
                        .optValSplit(100)
                        .optAugment(true)
                        .optRecalibrateBn(true)
                        .build();
        AblationPlan.Arm none = plan.arm("none");
        AblationPlan.Arm fitted = plan.arm(AblationPlan.FITTED);
        AblationSettings s =
                new AblationSettings(
                        plan,
                        tmp,
                        base,
                        List.of(none, fitted, plan.arm("fitted-recalibrated")),
                        new float[] {0.1f, 0.2f},
                        1,
                        1,
                        2,
                        3,
                        "x");
        // Selection runs train 1 epoch in a folder of their own: 0.2 wins on validation.
        assertEquals(
                tmp.resolve("runs").resolve("select").resolve("fitted-p0.2-seed1"),
                s.selectionDirectory(fitted, 0.2f, 1));
        assertEquals(1, s.selectionConfig(fitted, 0.2f, 1).epochs());
        write(
                s.selectionDirectory(fitted, 0.1f, 1),
                s.selectionConfig(fitted, 0.1f, 1),
                0.7,
                0.7,
                null);
        write(
                s.selectionDirectory(fitted, 0.2f, 1),
                s.selectionConfig(fitted, 0.2f, 1),
                0.8,
                0.7,
                null);
        // The decisive arms run 3 seeds; recalibration adds 1 point to every fitted run.
        double[] fittedTest = {0.84, 0.85, 0.83};
        for (int seed = 1; seed <= 3; seed++) {
            write(s.runDirectory(none, 0f, seed), none.configure(base, 0f, seed), 0.8, 0.80, null);
            double t = fittedTest[seed - 1];
            write(
                    s.runDirectory(fitted, 0.2f, seed),
                    fitted.configure(base, 0.2f, seed),
                    0.8,
                    t,
                    new HeldOutFigures(0.4, 0.81, 0.45, t + 0.01));
        }

        AblationResults results = AblationResults.read(s);

        assertEquals(0.2f, results.dropProb(fitted).orElseThrow());
        assertEquals(
                List.of(5, 3), results.main(AblationPlan.FITTED)[0].config().blockSizePerStage());
        double[] recalibrated =
                results.values("fitted-recalibrated", RunSummary::finalTestAccuracy);
        for (int i = 0; i < 3; i++) {
            assertEquals(fittedTest[i] + 0.01, recalibrated[i], TOLERANCE);
        }
        List<AblationReport.Verdict> verdicts = AblationReport.verdicts(results);
        AblationReport.Verdict recalibration =
                verdicts.stream()
                        .filter(v -> v.claim().arm().equals("fitted-recalibrated"))
                        .filter(v -> v.other().equals(AblationPlan.FITTED))
                        .findFirst()
                        .orElseThrow();
        assertEquals(3, recalibration.test().pairs());
        assertEquals(0.01, recalibration.test().meanDifference(), TOLERANCE);
        String report = AblationReport.markdown(results);
        assertTrue(report.contains("selection runs train 1 epochs"), report);
    }

    private static AblationSettings fixture(Path out) throws IOException {
        AblationSettings s = settings(out);
        // Selection: dropout is better at 0.1 on validation, DropBlock at 0.2.
        for (int seed = 1; seed <= 2; seed++) {
            run(s, "dropout", 0.1f, seed, 0.85, 0.5);
            run(s, "dropout", 0.2f, seed, 0.80, 0.99);
            run(s, AblationPlan.RECIPE, 0.1f, seed, 0.81, 0.99);
            run(s, AblationPlan.RECIPE, 0.2f, seed, 0.83, 0.5);
        }
        for (int seed = 1; seed <= 3; seed++) {
            run(s, "none", 0f, seed, 0.7, NONE[seed - 1]);
            run(s, "dropout", 0.1f, seed, 0.85, DROPOUT[seed - 1]);
            run(s, AblationPlan.RECIPE, 0.2f, seed, 0.83, RECIPE[seed - 1]);
        }
        return s;
    }

    @Test
    void dropProbabilityIsChosenOnValidationNotTest(@TempDir Path tmp) throws IOException {
        AblationResults results = AblationResults.read(fixture(tmp));
        // The test accuracies of the selection runs point the other way (0.99 at the value not
        // chosen): the choice follows validation accuracy only.
        assertEquals(0.1f, results.dropProb(AblationPlan.PAPER.arm("dropout")).orElseThrow());
        assertEquals(
                0.2f, results.dropProb(AblationPlan.PAPER.arm(AblationPlan.RECIPE)).orElseThrow());
        assertEquals(0.2f, results.dropProb(AblationPlan.PAPER.arm("block-3")).orElseThrow());
        assertEquals(0f, results.dropProb(AblationPlan.PAPER.arm("none")).orElseThrow());
    }

    @Test
    void choiceWaitsForEverySelectionRun(@TempDir Path tmp) throws IOException {
        AblationSettings s = settings(tmp);
        run(s, "dropout", 0.1f, 1, 0.85, 0.5);
        run(s, "dropout", 0.2f, 1, 0.80, 0.5);
        run(s, "dropout", 0.2f, 2, 0.80, 0.5);
        assertTrue(AblationResults.read(s).dropProb(AblationPlan.PAPER.arm("dropout")).isEmpty());
    }

    @Test
    void verdictsFollowHolmAdjustedPairedTests(@TempDir Path tmp) throws IOException {
        List<AblationReport.Verdict> verdicts =
                AblationReport.verdicts(AblationResults.read(fixture(tmp)));
        assertEquals(2, verdicts.size());
        AblationReport.Verdict vsNone = verdicts.get(0);
        AblationReport.Verdict vsDropout = verdicts.get(1);
        assertEquals("none", vsNone.other());
        assertEquals("dropout", vsDropout.other());
        PairedComparison expectedNone = PairedComparison.of(RECIPE, NONE);
        PairedComparison expectedDropout = PairedComparison.of(RECIPE, DROPOUT);
        assertEquals(expectedNone, vsNone.test());
        assertEquals(expectedDropout, vsDropout.test());
        double[] holm =
                HolmAdjustment.adjust(
                        new double[] {expectedNone.pValue(), expectedDropout.pValue()});
        assertEquals(holm[0], vsNone.adjustedP(), TOLERANCE);
        assertEquals(holm[1], vsDropout.adjustedP(), TOLERANCE);
        assertEquals("supported", vsNone.verdict());
        assertEquals("contradicted", vsDropout.verdict());
        assertEquals(
                "supported",
                AblationReport.claimVerdict(AblationPlan.PAPER.claims().get(0), verdicts));
        assertEquals(
                "contradicted",
                AblationReport.claimVerdict(AblationPlan.PAPER.claims().get(1), verdicts));
        assertEquals(
                "not run",
                AblationReport.claimVerdict(AblationPlan.PAPER.claims().get(3), verdicts));
    }

    @Test
    void aComparisonWithOneRunOnASideHasTooFewRunsNotAVerdict(@TempDir Path tmp)
            throws IOException {
        AblationSettings s = settings(tmp);
        for (int seed = 1; seed <= 2; seed++) {
            for (float p : new float[] {0.1f, 0.2f}) {
                run(s, "dropout", p, seed, 0.8, 0.8);
                run(s, AblationPlan.RECIPE, p, seed, 0.8, 0.8);
            }
        }
        // One run of none so far: a difference, but no test of it.
        run(s, "none", 0f, 1, 0.8, 0.70);
        run(s, AblationPlan.RECIPE, 0.1f, 1, 0.8, 0.90);
        List<AblationReport.Verdict> verdicts = AblationReport.verdicts(AblationResults.read(s));
        AblationReport.Verdict vsNone = verdicts.get(0);
        assertEquals("none", vsNone.other());
        assertEquals(1, vsNone.test().n2());
        assertTrue(Double.isNaN(vsNone.test().pValue()));
        assertEquals("too few runs", vsNone.verdict());
        assertEquals(
                "too few runs",
                AblationReport.claimVerdict(AblationPlan.PAPER.claims().get(0), verdicts));
        // The report says which comparisons its Holm adjustment counted: here the one against
        // dropout, whose two seeds pair.
        AblationReport.write(AblationResults.read(s));
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(
                md.contains(
                        "Holm-adjusted over the 1 of the 2 comparisons that have runs enough for a"
                                + " test so far"),
                md);
        assertTrue(md.contains("| too few runs |"), md);
    }

    @Test
    void noisyDifferenceIsNotShown(@TempDir Path tmp) throws IOException {
        AblationSettings s = settings(tmp);
        for (int seed = 1; seed <= 2; seed++) {
            for (float p : new float[] {0.1f, 0.2f}) {
                run(s, "dropout", p, seed, 0.8, 0.8);
                run(s, AblationPlan.RECIPE, p, seed, 0.8, 0.8);
            }
        }
        double[] none = {0.80, 0.84, 0.78};
        double[] recipe = {0.82, 0.80, 0.81};
        for (int seed = 1; seed <= 3; seed++) {
            run(s, "none", 0f, seed, 0.8, none[seed - 1]);
            run(s, AblationPlan.RECIPE, 0.1f, seed, 0.8, recipe[seed - 1]);
        }
        AblationReport.Verdict v = AblationReport.verdicts(AblationResults.read(s)).get(0);
        assertEquals("not shown", v.verdict());
    }

    @Test
    void reportShowsChoicesArmsAndClaims(@TempDir Path tmp) throws IOException {
        AblationResults results = AblationResults.read(fixture(tmp));
        AblationReport.write(results);
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(md.contains("| dropout | **0.8500 +- 0.0000** | 0.8000 +- 0.0000 | 0.1 |"), md);
        assertTrue(md.contains("| none | no regularization | - | 3 | 0.7850 +- 0.0050 |"), md);
        assertTrue(md.contains("Holm-adjusted over all 2 comparisons;"), md);
        // The recipe's mean test accuracy 0.8417 minus none's 0.7850: +5.67 points.
        assertTrue(md.contains("| DropBlock beats no regularization | none | 3 | +5.67 |"), md);
        assertTrue(md.contains("- DropBlock beats dropout: **contradicted**"), md);
        // The recipe's gap: final training accuracy 0.95 minus its mean final test accuracy 0.8417.
        assertTrue(md.contains("| 0.1083 +- 0.0076 |"), md);
        assertTrue(Files.size(tmp.resolve("report.png")) > 0);
        assertTrue(Files.size(tmp.resolve("overfitting.png")) > 0);
        try (var files = Files.list(tmp)) {
            assertTrue(
                    files.noneMatch(f -> f.getFileName().toString().contains(".tmp-")),
                    "no temporary files");
        }
    }

    @Test
    void runMadeWithOtherSettingsIsRefused(@TempDir Path tmp) throws IOException {
        AblationSettings s = fixture(tmp);
        TrainConfig other = s.base().toBuilder().optEpochs(3).build();
        AblationSettings changed =
                new AblationSettings(
                        AblationPlan.PAPER, tmp, other, s.arms(), s.dropProbs(), 2, 3, 3, 3, "x");
        BadInputException e =
                assertThrows(BadInputException.class, () -> AblationResults.read(changed));
        assertTrue(e.getMessage().contains("was made with other settings"), e.getMessage());
    }

    @Test
    void confidenceIntervalOfTheMeanUsesStudentsT() {
        // Mean 2, sd 1, n 3: 2 +- t(0.975, 2) / sqrt 3 = 2 +- 4.302652730 / 1.732050808.
        double[] ci = AblationReport.confidenceInterval(new double[] {1, 2, 3});
        assertEquals(2 - 2.484138, ci[0], 1e-6);
        assertEquals(2 + 2.484138, ci[1], 1e-6);
    }
}
