package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One study: its arms, the arm that chooses each regularizer's drop probability on the validation
 * set, the claims its arms test and the arms that get the most seeds. Each arm changes one thing
 * against a recipe; every regularizer runs at its own drop probability, chosen on the validation
 * set from a grid (as the paper compares each at its own best keep_prob), and the arms with the
 * same regularizer share it. Two studies exist: {@link #PAPER}, the paper's comparisons (arXiv
 * 1810.12890, section 4.1) around its recipe, and {@link #AUGMENTED}, blocks fitted to the maps and
 * recalibrated batch norms in the regime where DropBlock's gains are reported.
 *
 * @param name the study's name, as {@code ablate --study} takes it
 * @param title the report's title
 * @param recipe the arm most claims compare with
 * @param arms every arm, in report order
 * @param selectors the arms whose selection runs choose their regularizer's drop probability
 * @param claims the claims, in report order
 * @param decisiveArms the arms of the decisive comparison, which get {@code --decisive-seeds}
 */
record AblationPlan(
        String name,
        String title,
        String recipe,
        List<Arm> arms,
        List<String> selectors,
        List<Claim> claims,
        List<String> decisiveArms) {

    /**
     * One arm of a study.
     *
     * @param name short name, used for its run directories
     * @param description what it is, for the report
     * @param regularizer the regularizer; arms with the same one share a chosen drop probability
     * @param change how it differs from the recipe, besides the regularizer
     * @param readsFrom null for an arm that trains; else the arm whose runs it reads, as their
     *     figures after the batch norms were recalibrated (no training of its own)
     */
    record Arm(
            String name,
            String description,
            Regularizer regularizer,
            UnaryOperator<TrainConfig> change,
            String readsFrom) {

        /**
         * Creates an arm that trains.
         *
         * @param name short name, used for its run directories
         * @param description what it is, for the report
         * @param regularizer the regularizer
         * @param change how it differs from the recipe, besides the regularizer
         */
        Arm(
                String name,
                String description,
                Regularizer regularizer,
                UnaryOperator<TrainConfig> change) {
            this(name, description, regularizer, change, null);
        }

        /**
         * Tells whether the arm trains runs of its own.
         *
         * @return false for an arm that reads another's runs, recalibrated
         */
        boolean trains() {
            return readsFrom == null;
        }

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
                            .optBlockSizePerStage(null)
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

    /**
     * One claim: an arm beats each of {@code others} in final test accuracy.
     *
     * @param claim the claim, in the paper's words or the user's question
     * @param arm the arm that should win
     * @param others the arms it should beat
     */
    record Claim(String claim, String arm, List<String> others) {}

    /** The name of the paper's recipe, the arm every claim of {@link #PAPER} compares with. */
    static final String RECIPE = "dropblock";

    /** The arm of {@link #AUGMENTED} with blocks fitted to the maps. */
    static final String FITTED = "fitted";

    /** Block sizes fitted to ResNet-20's DropBlock stages on 28 x 28 images: 14 x 14 and 7 x 7. */
    static final List<Integer> FITTED_BLOCKS = List.of(5, 3);

    private static final Arm NONE =
            new Arm("none", "no regularization", Regularizer.NONE, UnaryOperator.identity());
    private static final Arm DROPOUT =
            new Arm(
                    "dropout",
                    "dropout (block 1), same places and schedule",
                    Regularizer.DROPOUT,
                    UnaryOperator.identity());
    private static final Arm SPATIAL_DROPOUT =
            new Arm(
                    "spatial-dropout",
                    "spatial dropout (whole channels), same places and schedule",
                    Regularizer.SPATIAL_DROPOUT,
                    UnaryOperator.identity());

    /** The paper's comparisons around its recipe, DropBlock with block 7 (the first study). */
    static final AblationPlan PAPER =
            new AblationPlan(
                    "paper",
                    "DropBlock ablation",
                    RECIPE,
                    List.of(
                            NONE,
                            DROPOUT,
                            SPATIAL_DROPOUT,
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
                                    c ->
                                            c.toBuilder()
                                                    .optSchedule(TrainConfig.Schedule.CONSTANT)
                                                    .build()),
                            new Arm(
                                    "last-stage",
                                    "DropBlock in the last stage only",
                                    Regularizer.DROPBLOCK,
                                    c ->
                                            c.toBuilder()
                                                    .optStages(
                                                            List.of(
                                                                    ResNetLayout.of(c.depth())
                                                                            .numStages()))
                                                    .build()),
                            new Arm(
                                    "residual-only",
                                    "DropBlock on the residual branches only, not the shortcuts",
                                    Regularizer.DROPBLOCK,
                                    c -> c.toBuilder().optShortcut(false).build())),
                    List.of("dropout", "spatial-dropout", RECIPE),
                    List.of(
                            new Claim("DropBlock beats no regularization", RECIPE, List.of("none")),
                            new Claim("DropBlock beats dropout", RECIPE, List.of("dropout")),
                            new Claim(
                                    "DropBlock beats spatial dropout",
                                    RECIPE,
                                    List.of("spatial-dropout")),
                            new Claim(
                                    "block_size 7 is best (vs 3 and 5)",
                                    RECIPE,
                                    List.of("block-3", "block-5")),
                            new Claim(
                                    "a linear keep_prob schedule beats a fixed one",
                                    RECIPE,
                                    List.of("constant")),
                            new Claim(
                                    "DropBlock in the last two stages beats the last stage alone",
                                    RECIPE,
                                    List.of("last-stage")),
                            new Claim(
                                    "DropBlock on the shortcut as well beats the residual branch"
                                            + " alone",
                                    RECIPE,
                                    List.of("residual-only"))),
                    List.of());

    /**
     * The second study: augmented training images, DropBlock with blocks fitted to the maps against
     * no regularization, dropout, spatial dropout and the paper's block 7, and the fitted arm's own
     * models with their batch norms recalibrated. The fitted arm chooses DropBlock's drop
     * probability, which block 7 shares.
     */
    static final AblationPlan AUGMENTED =
            new AblationPlan(
                    "augmented",
                    "DropBlock with augmentation, fitted blocks and recalibrated batch norms",
                    FITTED,
                    List.of(
                            NONE,
                            DROPOUT,
                            SPATIAL_DROPOUT,
                            new Arm(
                                    RECIPE,
                                    "DropBlock, block 7 in both DropBlock stages (the paper's size)",
                                    Regularizer.DROPBLOCK,
                                    UnaryOperator.identity()),
                            new Arm(
                                    FITTED,
                                    "DropBlock, blocks fitted to the maps: 5 on 14x14, 3 on 7x7",
                                    Regularizer.DROPBLOCK,
                                    c -> c.toBuilder().optBlockSizePerStage(FITTED_BLOCKS).build()),
                            new Arm(
                                    "fitted-recalibrated",
                                    "the fitted arm's models, batch norms recalibrated after"
                                            + " training (no extra training)",
                                    Regularizer.DROPBLOCK,
                                    c -> c.toBuilder().optBlockSizePerStage(FITTED_BLOCKS).build(),
                                    FITTED)),
                    List.of("dropout", "spatial-dropout", FITTED),
                    List.of(
                            new Claim(
                                    "fitted DropBlock beats no regularization",
                                    FITTED,
                                    List.of("none")),
                            new Claim("fitted DropBlock beats dropout", FITTED, List.of("dropout")),
                            new Claim(
                                    "fitted DropBlock beats spatial dropout",
                                    FITTED,
                                    List.of("spatial-dropout")),
                            new Claim(
                                    "blocks fitted to the maps beat block 7",
                                    FITTED,
                                    List.of(RECIPE)),
                            new Claim(
                                    "recalibrating the batch norms improves fitted DropBlock",
                                    "fitted-recalibrated",
                                    List.of(FITTED)),
                            new Claim(
                                    "recalibrated fitted DropBlock beats no regularization",
                                    "fitted-recalibrated",
                                    List.of("none"))),
                    List.of("none", FITTED, "fitted-recalibrated"));

    /** Every study, by name. */
    static final List<AblationPlan> STUDIES = List.of(PAPER, AUGMENTED);

    /**
     * Finds a study by name.
     *
     * @param name the study's name
     * @return the study
     * @throws IllegalArgumentException if no study has that name
     */
    static AblationPlan study(String name) {
        return STUDIES.stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "--study must be one of "
                                                + STUDIES.stream().map(AblationPlan::name).toList()
                                                + ", got "
                                                + name));
    }

    /**
     * Finds an arm by name.
     *
     * @param name the arm's name
     * @return the arm
     * @throws IllegalArgumentException if no arm has that name
     */
    Arm arm(String name) {
        return arms.stream()
                .filter(a -> a.name().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "no arm named " + name + "; arms: " + names()));
    }

    /**
     * Returns the names of all arms, in order.
     *
     * @return the names
     */
    List<String> names() {
        return arms.stream().map(Arm::name).toList();
    }
}
