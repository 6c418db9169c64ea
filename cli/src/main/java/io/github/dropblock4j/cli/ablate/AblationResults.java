package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * What an ablation's output directory holds: the finished runs of the drop-probability selection
 * and of the main comparison, read from their {@code summary.json}, and the drop probability each
 * regularizer gets. Everything in the report is computed from this, so it can be recomputed from
 * the committed run directories alone.
 *
 * <p>An arm that reads another's runs ({@link AblationPlan.Arm#readsFrom()}) gets their figures
 * after the batch norms were recalibrated, run by run; a run without them counts as unfinished.
 *
 * <p>The drop probability of a regularizer is the grid value with the highest mean final validation
 * accuracy over the selection seeds (the smaller value on a tie); it is known once all of that
 * regularizer's selection runs have finished. The test set plays no part in the choice.
 */
final class AblationResults {

    private final AblationSettings settings;
    private final Map<String, Map<Float, RunSummary[]>> selection = new LinkedHashMap<>();
    private final Map<Regularizer, Float> chosen = new LinkedHashMap<>();
    private final Map<String, RunSummary[]> main = new LinkedHashMap<>();

    private AblationResults(AblationSettings settings) {
        this.settings = settings;
    }

    /**
     * Reads every finished run the settings call for.
     *
     * @param settings the ablation's settings
     * @return the results found
     * @throws BadInputException if a run directory holds a run made with other settings
     */
    static AblationResults read(AblationSettings settings) {
        AblationResults results = new AblationResults(settings);
        AblationPlan plan = settings.plan();
        for (String name : settings.selectors()) {
            AblationPlan.Arm arm = plan.arm(name);
            Map<Float, RunSummary[]> byProb = new LinkedHashMap<>();
            for (float p : settings.dropProbs()) {
                RunSummary[] runs = new RunSummary[settings.selectionSeeds()];
                for (int seed = 1; seed <= runs.length; seed++) {
                    runs[seed - 1] =
                            finished(
                                            settings,
                                            settings.selectionDirectory(arm, p, seed),
                                            settings.selectionConfig(arm, p, seed))
                                    .orElse(null);
                }
                byProb.put(p, runs);
            }
            results.selection.put(name, byProb);
            choose(settings, byProb).ifPresent(p -> results.chosen.put(arm.regularizer(), p));
        }
        for (AblationPlan.Arm arm : settings.arms()) {
            AblationPlan.Arm trained = arm.trains() ? arm : plan.arm(arm.readsFrom());
            RunSummary[] runs = new RunSummary[settings.seeds(arm)];
            Optional<Float> p = results.dropProb(trained);
            for (int seed = 1; seed <= runs.length && p.isPresent(); seed++) {
                Optional<RunSummary> run =
                        finished(
                                settings,
                                settings.runDirectory(trained, p.get(), seed),
                                trained.configure(settings.base(), p.get(), seed));
                runs[seed - 1] =
                        (arm.trains() ? run : run.flatMap(RunSummary::asRecalibrated)).orElse(null);
            }
            results.main.put(arm.name(), runs);
        }
        return results;
    }

    private static Optional<Float> choose(
            AblationSettings settings, Map<Float, RunSummary[]> byProb) {
        if (settings.dropProbs().length == 1) {
            return Optional.of(settings.dropProbs()[0]);
        }
        float best = Float.NaN;
        double bestAccuracy = Double.NEGATIVE_INFINITY;
        for (Map.Entry<Float, RunSummary[]> e : byProb.entrySet()) {
            double sum = 0;
            for (RunSummary run : e.getValue()) {
                if (run == null) {
                    return Optional.empty();
                }
                sum += run.finalValidationAccuracy();
            }
            double mean = sum / e.getValue().length;
            if (mean > bestAccuracy || (mean == bestAccuracy && e.getKey() < best)) {
                bestAccuracy = mean;
                best = e.getKey();
            }
        }
        return Optional.of(best);
    }

    private static Optional<RunSummary> finished(
            AblationSettings settings, Path dir, TrainConfig expected) {
        Optional<RunSummary> summary = RunDirectory.readSummary(dir);
        if (summary.isPresent() && !summary.get().config().equals(expected)) {
            throw new BadInputException(
                    "--out "
                            + settings.out()
                            + ": run "
                            + dir
                            + " was made with other settings ("
                            + summary.get().config()
                            + ", expected "
                            + expected
                            + "); use a new --out");
        }
        return summary;
    }

    /**
     * Returns the drop probability an arm runs at, once it is known.
     *
     * @param arm the arm
     * @return its drop probability (0 for no regularization), or empty while its regularizer's
     *     selection runs are unfinished
     */
    Optional<Float> dropProb(AblationPlan.Arm arm) {
        if (arm.regularizer() == Regularizer.NONE) {
            return Optional.of(0f);
        }
        return Optional.ofNullable(chosen.get(arm.regularizer()));
    }

    /**
     * Returns the selection runs of one selected arm, by drop probability, each array indexed by
     * seed - 1 with null where a run has not finished.
     *
     * @param arm the name of a selected arm
     * @return its runs by drop probability
     */
    Map<Float, RunSummary[]> selection(String arm) {
        return selection.get(arm);
    }

    /**
     * Returns the main runs of an arm, indexed by seed - 1, null where a run has not finished (or
     * its drop probability is not yet known).
     *
     * @param arm the arm's name
     * @return its runs
     */
    RunSummary[] main(String arm) {
        return main.get(arm);
    }

    /**
     * Returns one figure of an arm's main runs, by seed, NaN where a run has not finished; every
     * arm's array has the same length, the most seeds any arm runs, so arms pair by index.
     *
     * @param arm the arm's name
     * @param figure e.g. {@code RunSummary::finalTestAccuracy}
     * @return the values, indexed by seed - 1, NaN beyond the arm's seeds
     */
    double[] values(String arm, ToDoubleFunction<RunSummary> figure) {
        RunSummary[] runs = main.get(arm);
        double[] values = new double[settings.decisiveSeeds()];
        Arrays.fill(values, Double.NaN);
        for (int i = 0; i < runs.length; i++) {
            values[i] = runs[i] == null ? Double.NaN : figure.applyAsDouble(runs[i]);
        }
        return values;
    }

    /**
     * Returns the finished runs of an arm, in seed order.
     *
     * @param arm the arm's name
     * @return the finished runs
     */
    List<RunSummary> finishedRuns(String arm) {
        List<RunSummary> runs = new ArrayList<>();
        for (RunSummary r : main.get(arm)) {
            if (r != null) {
                runs.add(r);
            }
        }
        return runs;
    }

    /** Returns the settings these results were read with. */
    AblationSettings settings() {
        return settings;
    }
}
