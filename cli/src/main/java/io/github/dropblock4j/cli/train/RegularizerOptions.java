package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.input.BlockSizeConverter;
import io.github.dropblock4j.cli.input.DropProbConverter;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of {@code train} and {@code spark-train} for the regularizer: its target drop
 * probability and schedule, its block size, and where in the network it goes. A picocli mixin
 * beside {@link TrainingOptions}; {@code ablate} has none of them, as its arms set them.
 */
public final class RegularizerOptions {

    @Option(
            names = "--drop-prob",
            converter = DropProbConverter.class,
            description = "Target drop probability, 1 - keep_prob (default: ${DEFAULT-VALUE}).")
    private float dropProb = 0.1f;

    @Option(
            names = "--block-size",
            converter = BlockSizeConverter.class,
            description = "DropBlock block size (default: ${DEFAULT-VALUE}).")
    private int blockSize = 7;

    @Option(
            names = "--schedule",
            description =
                    "linear (0 to --drop-prob over the run, the paper's) or constant"
                            + " (default: linear).")
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
        return builder.optDropProb(dropProb)
                .optBlockSize(blockSize)
                .optSchedule(schedule)
                .optStages(stages)
                .optShortcut(!noShortcut);
    }
}
