package io.github.dropblock4j.cli.input;

import picocli.CommandLine.Option;

/**
 * The {@code --seed} option of every command that draws random numbers: a picocli mixin, so the
 * option, its default and its help are declared once.
 */
public final class SeedOption {

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    private int seed = 1;

    /**
     * Returns the seed given, or the default.
     *
     * @return the seed
     */
    public int seed() {
        return seed;
    }
}
