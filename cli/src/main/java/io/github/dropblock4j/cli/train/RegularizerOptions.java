package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.input.DropProbOption;
import io.github.dropblock4j.cli.input.StageBlockSizes;
import io.github.dropblock4j.cli.input.StageBlockSizesConverter;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of {@code train} and {@code spark-train} for the regularizer: its target drop
 * probability and schedule, its block size, and where in the network it goes. A picocli mixin
 * beside {@link TrainingOptions}; {@code ablate} has none of them, as its arms set them.
 */
public final class RegularizerOptions {

    @Mixin private DropProbOption dropProb;

    @Option(
            names = "--block-size",
            paramLabel = "B[,B...]",
            converter = StageBlockSizesConverter.class,
            description =
                    "DropBlock block size: one for every DropBlock stage, or one per stage in"
                            + " --stages order (e.g. 5,3: 5 on 14x14 maps, 3 on 7x7). A value with"
                            + " a decimal point is a fraction of each map's height and width,"
                            + " rounded, at least 1 (e.g. 0.36: 5 on 14x14, 3 on 7x7)"
                            + " (default: 7).")
    private StageBlockSizes blockSize = StageBlockSizes.of(7);

    @Option(
            names = "--schedule",
            description =
                    "linear (0 to --drop-prob over the run, the paper's) or constant"
                            + " (--drop-prob throughout; default: linear).")
    private TrainConfig.Schedule schedule = TrainConfig.Schedule.LINEAR;

    @Option(
            names = "--stages",
            split = ",",
            paramLabel = "N",
            description = "Stages (1-based) that get the regularizer (default: the last two).")
    private List<Integer> stages;

    @Option(names = "--no-shortcut", description = "Residual branches only, not the shortcuts.")
    private boolean noShortcut;

    /**
     * Sets the parsed options on a builder; {@link TrainConfig.Builder#build()} checks them.
     *
     * @param builder the builder
     * @return the builder
     */
    public TrainConfig.Builder applyTo(TrainConfig.Builder builder) {
        if (blockSize.isFraction()) {
            builder.optBlockFraction(blockSize.fractions());
        } else if (blockSize.count() == 1) {
            builder.optBlockSize(blockSize.sizes().get(0));
        } else {
            builder.optBlockSizePerStage(blockSize.sizes());
        }
        return builder.optDropProb(dropProb.dropProb())
                .optSchedule(schedule)
                .optStages(stages)
                .optShortcut(!noShortcut);
    }
}
