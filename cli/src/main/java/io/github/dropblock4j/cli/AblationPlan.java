package io.github.dropblock4j.cli;

import java.util.List;
import java.util.function.Consumer;

/**
 * The configurations of the paper's comparisons (arXiv 1810.12890, section 4.1), each derived
 * from one base configuration: block sizes 1 (dropout), 3, 5 and 7; linear vs constant keep-prob
 * schedule; DropBlock in the last stage vs the last two; residual branch only vs residual and
 * shortcut; plus no regularization and spatial dropout at the same drop rate.
 */
final class AblationPlan {

    /**
     * One configuration of the ablation.
     *
     * @param name short name, used for its run directories
     * @param description what it is, for the report
     * @param change how it differs from the base configuration
     */
    record Variant(String name, String description, Consumer<TrainConfig> change) {

        TrainConfig apply(TrainConfig base, int seed) {
            TrainConfig c = base.copy();
            c.seed = seed;
            change.accept(c);
            return c.validate();
        }
    }

    /** The full recipe: block 7, linear schedule, last two stages, residual and shortcut. */
    static final String RECIPE = "block-7";

    static final List<Variant> VARIANTS = List.of(
            new Variant("none", "no regularization", c -> c.regularizer = Regularizer.NONE),
            new Variant("dropout", "dropout (block size 1), same places and schedule",
                    c -> c.regularizer = Regularizer.DROPOUT),
            new Variant("spatial-dropout", "spatial dropout (whole channels), same places and schedule",
                    c -> c.regularizer = Regularizer.SPATIAL_DROPOUT),
            new Variant("block-3", "DropBlock, block 3", c -> c.blockSize = 3),
            new Variant("block-5", "DropBlock, block 5", c -> c.blockSize = 5),
            new Variant(RECIPE, "DropBlock, block 7: the paper's recipe", c -> c.blockSize = 7),
            new Variant("constant", "DropBlock, block 7, constant drop probability",
                    c -> c.schedule = TrainConfig.Schedule.CONSTANT),
            new Variant("last-stage", "DropBlock, block 7, last stage only",
                    c -> c.stages = new int[] {c.depth() % 6 == 2 && c.depth() >= 20 ? 3 : 4}),
            new Variant("no-shortcut", "DropBlock, block 7, residual branch only", c -> c.shortcut = false));

    /**
     * One of the paper's claims, tested by comparing two variants' mean test accuracy.
     *
     * @param claim the claim, in the paper's words
     * @param better the variant the paper finds better
     * @param others the variants it should beat
     */
    record Claim(String claim, String better, List<String> others) {}

    static final List<Claim> CLAIMS = List.of(
            new Claim("block_size 7 is best (vs 1, 3, 5)", RECIPE, List.of("dropout", "block-3", "block-5")),
            new Claim("a linear keep_prob schedule beats a fixed one", RECIPE, List.of("constant")),
            new Claim("DropBlock in the last two stages beats the last stage alone", RECIPE, List.of("last-stage")),
            new Claim("DropBlock on the shortcut as well beats the residual branch alone", RECIPE,
                    List.of("no-shortcut")));

    private AblationPlan() {}
}
