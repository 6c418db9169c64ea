package io.github.dropblock4j.cli.input;

import picocli.CommandLine.Option;

/**
 * The {@code --drop-prob} option of the commands that apply DropBlock at one drop probability (or
 * ramp to it): a picocli mixin, so the option, its default, its rule ({@link DropProbConverter})
 * and its help are declared once.
 */
public final class DropProbOption {

    @Option(
            names = "--drop-prob",
            converter = DropProbConverter.class,
            description = "Drop probability, 1 - keep_prob (default: ${DEFAULT-VALUE}).")
    private float dropProb = 0.1f;

    /**
     * Returns the drop probability given, or the default.
     *
     * @return the drop probability, in [0, 1)
     */
    public float dropProb() {
        return dropProb;
    }
}
