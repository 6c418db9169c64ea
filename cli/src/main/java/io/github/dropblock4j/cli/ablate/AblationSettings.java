package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The settings of one ablation: its study, where it writes, the settings every run shares, the
 * arms, the grid of drop probabilities to choose from on the validation set, and the seeds.
 *
 * @param plan the study
 * @param out the output directory; runs go to {@code <out>/runs/<run name>}
 * @param base the settings every run shares (data, model, epochs, ...)
 * @param arms the arms of the main comparison, in report order
 * @param dropProbs the grid of drop probabilities each regularizer chooses from
 * @param selectionSeeds seeds 1..selectionSeeds run at every grid value to choose
 * @param selectionEpochs the epochs of a selection run; when they are the main runs' epochs, the
 *     selection runs double as the main runs of their seeds
 * @param seeds seeds 1..seeds run for every arm in the main comparison
 * @param decisiveSeeds seeds 1..decisiveSeeds run for the study's decisive arms, at least {@code
 *     seeds}
 * @param command the command line that reproduces the ablation
 */
record AblationSettings(
        AblationPlan plan,
        Path out,
        TrainConfig base,
        List<AblationPlan.Arm> arms,
        float[] dropProbs,
        int selectionSeeds,
        int selectionEpochs,
        int seeds,
        int decisiveSeeds,
        String command) {

    /**
     * Checks the seeds.
     *
     * @throws IllegalArgumentException if decisiveSeeds is below seeds
     */
    AblationSettings {
        if (decisiveSeeds < seeds) {
            throw new IllegalArgumentException(
                    "--decisive-seeds must be at least --seeds ("
                            + seeds
                            + "), got "
                            + decisiveSeeds);
        }
    }

    /**
     * Returns the directory of one run of the main comparison.
     *
     * @param arm the run's arm, one that trains
     * @param dropProb its drop probability
     * @param seed its seed
     * @return {@code <out>/runs/<arm>-p<dropProb>-seed<seed>}
     */
    Path runDirectory(AblationPlan.Arm arm, float dropProb, int seed) {
        return out.resolve("runs").resolve(arm.runName(dropProb, seed));
    }

    /**
     * Returns the directory of one selection run: that of the main run with the same arm, drop
     * probability and seed when selection runs train as long as the main ones, else one of its own
     * under {@code <out>/runs/select}.
     *
     * @param arm the run's arm
     * @param dropProb its drop probability
     * @param seed its seed
     * @return the directory
     */
    Path selectionDirectory(AblationPlan.Arm arm, float dropProb, int seed) {
        return selectionEpochs == base.epochs()
                ? runDirectory(arm, dropProb, seed)
                : out.resolve("runs").resolve("select").resolve(arm.runName(dropProb, seed));
    }

    /**
     * Returns the configuration of one selection run.
     *
     * @param arm the run's arm
     * @param dropProb its drop probability
     * @param seed its seed
     * @return the arm's configuration over {@link #selectionEpochs()} epochs
     */
    TrainConfig selectionConfig(AblationPlan.Arm arm, float dropProb, int seed) {
        return arm.configure(base.toBuilder().optEpochs(selectionEpochs).build(), dropProb, seed);
    }

    /**
     * Returns the seeds an arm runs in the main comparison.
     *
     * @param arm the arm
     * @return {@link #decisiveSeeds()} for the study's decisive arms, else {@link #seeds()}
     */
    int seeds(AblationPlan.Arm arm) {
        return plan.decisiveArms().contains(arm.name()) ? decisiveSeeds : seeds;
    }

    /**
     * Returns the selected arms whose drop probability the main comparison needs.
     *
     * @return the names of the selected arms, in the study's order
     */
    List<String> selectors() {
        return plan.selectors().stream()
                .filter(
                        s ->
                                arms.stream()
                                        .anyMatch(
                                                a -> a.regularizer() == plan.arm(s).regularizer()))
                .toList();
    }

    /**
     * Describes what every run shares, for the report.
     *
     * @return e.g. "resnet20 on fashion-mnist, 1000 training images, ..."
     */
    String sharedSettings() {
        return String.format(
                        Locale.ROOT,
                        "%s on %s, %s training images, %s validation images held out of the training set, %s test"
                                + " images, %d epochs, batch %d, %s, learning rate %s on a cosine to 0,"
                                + " weight decay %s, %s; test accuracy measured every %d epochs and after the last",
                        base.model(),
                        base.data(),
                        base.trainLimit() == 0 ? "all" : String.valueOf(base.trainLimit()),
                        base.valSplit(),
                        base.testLimit() == 0 ? "all" : String.valueOf(base.testLimit()),
                        base.epochs(),
                        base.batchSize(),
                        // The first study's runs were trained before both frameworks shared the
                        // recipe's Nesterov momentum.
                        plan == AblationPlan.PAPER
                                ? "SGD with momentum 0.9"
                                : "SGD with Nesterov momentum 0.9",
                        base.lr(),
                        base.weightDecay(),
                        base.augment()
                                ? "augmented (random crop, padding 4, horizontal flip)"
                                : "no augmentation",
                        base.testEvery())
                + (selectionEpochs == base.epochs()
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "; selection runs train %d epochs, on the same cosine shortened",
                                selectionEpochs))
                + (base.recalibrateBn()
                        ? "; after the last epoch every run's batch norms are recalibrated"
                                + " (the figures of every arm but the recalibrated one are those"
                                + " before)"
                        : "")
                // Runs trained before --framework existed are DJL's: their text stays as it was.
                + (base.framework() == Framework.DJL
                        ? ""
                        : "; trained with " + base.framework().description());
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "study="
                + plan.name()
                + " out="
                + out
                + " base=["
                + base
                + "] arms="
                + arms.stream().map(AblationPlan.Arm::name).toList()
                + " dropProbs="
                + Arrays.toString(dropProbs)
                + " selectionSeeds="
                + selectionSeeds
                + " selectionEpochs="
                + selectionEpochs
                + " seeds="
                + seeds
                + " decisiveSeeds="
                + decisiveSeeds;
    }
}
