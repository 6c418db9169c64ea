package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The arms of the ablation and the claims they test (arXiv 1810.12890, section 4.1). Each arm
 * changes one thing against the paper's recipe, DropBlock with block 7 after every batch norm of
 * the last two stages and on their shortcuts, its drop probability ramped linearly from 0 to the
 * target. Every regularizer runs at its own drop probability, chosen on the validation set from a
 * grid (as the paper compares each at its own best keep_prob): the DropBlock arms share the one
 * chosen for the recipe.
 */
final class AblationPlan {

    /**
     * One arm of the ablation.
     *
     * @param name short name, used for its run directories
     * @param description what it is, for the report
     * @param regularizer the regularizer; arms with the same one share a chosen drop probability
     * @param change how it differs from the recipe, besides the regularizer
     */
    record Arm(
            String name,
            String description,
            Regularizer regularizer,
            UnaryOperator<TrainConfig> change) {

        /**
         * Returns the configuration of one run of this arm.
         *
         * @param base the shared settings (data, model, epochs, ...)
         * @param dropProb the drop probability (ignored without a regularizer)
         * @param seed the seed: fixes the data subsets, initial weights, data order and masks
         * @return the validated configuration
         */
        TrainConfig configure(TrainConfig base, float dropProb, int seed) {
            return change.apply(
                    base.toBuilder()
                            .optSeed(seed)
                            .optRegularizer(regularizer)
                            .optDropProb(regularizer == Regularizer.NONE ? 0f : dropProb)
                            .optBlockSize(7)
                            .optSchedule(TrainConfig.Schedule.LINEAR)
                            .optStages(null)
                            .optShortcut(true)
                            .build());
        }

        /**
         * Returns the name of a run's directory, e.g. {@code dropblock-p0.15-seed3}.
         *
         * @param dropProb the run's drop probability
         * @param seed the run's seed
         * @return the directory name
         */
        String runName(float dropProb, int seed) {
            return name + (regularizer == Regularizer.NONE ? "" : "-p" + dropProb) + "-seed" + seed;
        }
    }

    /** The name of the paper's recipe, the arm every claim compares with. */
    static final String RECIPE = "dropblock";

    /** Every arm, the recipe first after the baselines. */
    static final List<Arm> ARMS =
            List.of(
                    new Arm(
                            "none",
                            "no regularization",
                            Regularizer.NONE,
                            UnaryOperator.identity()),
                    new Arm(
                            "dropout",
                            "dropout (block 1), same places and schedule",
                            Regularizer.DROPOUT,
                            UnaryOperator.identity()),
                    new Arm(
                            "spatial-dropout",
                            "spatial dropout (whole channels), same places and schedule",
                            Regularizer.SPATIAL_DROPOUT,
                            UnaryOperator.identity()),
                    new Arm(
                            RECIPE,
                            "DropBlock, block 7: the paper's recipe",
                            Regularizer.DROPBLOCK,
                            UnaryOperator.identity()),
                    new Arm(
                            "block-3",
                            "DropBlock, block 3",
                            Regularizer.DROPBLOCK,
                            c -> c.toBuilder().optBlockSize(3).build()),
                    new Arm(
                            "block-5",
                            "DropBlock, block 5",
                            Regularizer.DROPBLOCK,
                            c -> c.toBuilder().optBlockSize(5).build()),
                    new Arm(
                            "constant",
                            "DropBlock, constant drop probability",
                            Regularizer.DROPBLOCK,
                            c -> c.toBuilder().optSchedule(TrainConfig.Schedule.CONSTANT).build()),
                    new Arm(
                            "last-stage",
                            "DropBlock in the last stage only",
                            Regularizer.DROPBLOCK,
                            c ->
                                    c.toBuilder()
                                            .optStages(
                                                    List.of(ResNetLayout.of(c.depth()).numStages()))
                                            .build()),
                    new Arm(
                            "residual-only",
                            "DropBlock on the residual branches only, not the shortcuts",
                            Regularizer.DROPBLOCK,
                            c -> c.toBuilder().optShortcut(false).build()));

    /** The arms whose drop probability is chosen on the validation set, one per regularizer. */
    static final List<String> SELECTED = List.of("dropout", "spatial-dropout", RECIPE);

    /**
     * One claim: the recipe beats each of {@code others} in final test accuracy.
     *
     * @param claim the claim, in the paper's words or the user's question
     * @param others the arms the recipe should beat
     */
    record Claim(String claim, List<String> others) {}

    static final List<Claim> CLAIMS =
            List.of(
                    new Claim("DropBlock beats no regularization", List.of("none")),
                    new Claim("DropBlock beats dropout", List.of("dropout")),
                    new Claim("DropBlock beats spatial dropout", List.of("spatial-dropout")),
                    new Claim("block_size 7 is best (vs 3 and 5)", List.of("block-3", "block-5")),
                    new Claim("a linear keep_prob schedule beats a fixed one", List.of("constant")),
                    new Claim(
                            "DropBlock in the last two stages beats the last stage alone",
                            List.of("last-stage")),
                    new Claim(
                            "DropBlock on the shortcut as well beats the residual branch alone",
                            List.of("residual-only")));

    /**
     * Finds an arm by name.
     *
     * @param name the arm's name
     * @return the arm
     * @throws IllegalArgumentException if no arm has that name
     */
    static Arm arm(String name) {
        return ARMS.stream()
                .filter(a -> a.name().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "no arm named " + name + "; arms: " + names()));
    }

    /** Returns the names of all arms, in order. */
    static List<String> names() {
        return ARMS.stream().map(Arm::name).toList();
    }

    private AblationPlan() {}
}
