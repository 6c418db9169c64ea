package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The settings of one ablation: where it writes, the settings every run shares, the arms, the grid
 * of drop probabilities to choose from on the validation set, and the seeds.
 *
 * @param out the output directory; runs go to {@code <out>/runs/<run name>}
 * @param base the settings every run shares (data, model, epochs, ...)
 * @param arms the arms of the main comparison, in report order
 * @param dropProbs the grid of drop probabilities each regularizer chooses from
 * @param selectionSeeds seeds 1..selectionSeeds run at every grid value to choose
 * @param seeds seeds 1..seeds run for every arm in the main comparison
 * @param command the command line that reproduces the ablation
 */
record AblationSettings(
        Path out,
        TrainConfig base,
        List<AblationPlan.Arm> arms,
        float[] dropProbs,
        int selectionSeeds,
        int seeds,
        String command) {

    /**
     * Returns the directory of one run.
     *
     * @param arm the run's arm
     * @param dropProb its drop probability
     * @param seed its seed
     * @return {@code <out>/runs/<arm>-p<dropProb>-seed<seed>}
     */
    Path runDirectory(AblationPlan.Arm arm, float dropProb, int seed) {
        return out.resolve("runs").resolve(arm.runName(dropProb, seed));
    }

    /**
     * Returns the selected arms whose drop probability the main comparison needs.
     *
     * @return the names of the selected arms, in {@link AblationPlan#SELECTED} order
     */
    List<String> selectors() {
        return AblationPlan.SELECTED.stream()
                .filter(
                        s ->
                                arms.stream()
                                        .anyMatch(
                                                a ->
                                                        a.regularizer()
                                                                == AblationPlan.arm(s)
                                                                        .regularizer()))
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
                                + " images, %d epochs, batch %d, SGD with momentum 0.9, learning rate %s on a cosine to 0,"
                                + " weight decay %s, %s; test accuracy measured every %d epochs and after the last",
                        base.model(),
                        base.data(),
                        base.trainLimit() == 0 ? "all" : String.valueOf(base.trainLimit()),
                        base.valSplit(),
                        base.testLimit() == 0 ? "all" : String.valueOf(base.testLimit()),
                        base.epochs(),
                        base.batchSize(),
                        base.lr(),
                        base.weightDecay(),
                        base.augment()
                                ? "augmented (random crop, padding 4, horizontal flip)"
                                : "no augmentation",
                        base.testEvery())
                // Runs trained before --framework existed are DJL's: their text stays as it was.
                + (base.framework() == Framework.DJL
                        ? ""
                        : "; trained with " + base.framework().description());
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "out="
                + out
                + " base=["
                + base
                + "] arms="
                + arms.stream().map(AblationPlan.Arm::name).toList()
                + " dropProbs="
                + Arrays.toString(dropProbs)
                + " selectionSeeds="
                + selectionSeeds
                + " seeds="
                + seeds;
    }
}
