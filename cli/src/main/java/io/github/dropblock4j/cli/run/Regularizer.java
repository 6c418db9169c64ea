package io.github.dropblock4j.cli.run;

import java.util.Locale;

/**
 * The regularizer placed in a ResNet's chosen stages. All four use the same places, drop rate and
 * schedule, so an ablation compares like with like: dropout is DropBlock with block size 1 (each
 * unit dropped independently with probability p), spatial dropout is DropBlock with a block as
 * large as the feature map (whole channels dropped with probability p).
 */
public enum Regularizer {
    /** DropBlock with the configured block size. */
    DROPBLOCK,
    /** Element-wise dropout: DropBlock with block size 1. */
    DROPOUT,
    /** Spatial dropout: DropBlock whose block covers the whole feature map. */
    SPATIAL_DROPOUT,
    /** No regularization layer. */
    NONE;

    // Clipped to every feature map, so this block covers the whole map.
    private static final int WHOLE_MAP = 1 << 16;

    /**
     * Returns the block size to build, given the configured one.
     *
     * @param configured the {@code --block-size} value
     * @return the block size this regularizer uses
     */
    public int blockSize(int configured) {
        switch (this) {
            case DROPOUT:
                return 1;
            case SPATIAL_DROPOUT:
                return WHOLE_MAP;
            default:
                return configured;
        }
    }

    /**
     * Returns the command-line spelling, e.g. {@code spatial-dropout}.
     *
     * @return the option value
     */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
