package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.input.BlockSizeOption;
import io.github.dropblock4j.cli.input.DropProbOption;
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

    @Mixin private BlockSizeOption blockSize;

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
        return builder.optDropProb(dropProb.dropProb())
                .optBlockSize(blockSize.blockSize())
                .optSchedule(schedule)
                .optStages(stages)
                .optShortcut(!noShortcut);
    }
}
