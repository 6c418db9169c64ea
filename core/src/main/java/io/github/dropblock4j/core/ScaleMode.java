package io.github.dropblock4j.core;

/**
 * How DropBlock rescales the units it keeps, so that the output keeps the expected magnitude of the
 * input.
 */
public enum ScaleMode {
    /**
     * Algorithm 1 of the paper (arXiv 1810.12890): kept units are multiplied by {@code count(M) /
     * count_ones(M)} over the mask actually drawn. A mask with every unit dropped scales by 0, so
     * the output is all zeros and never NaN or Inf. This is the default.
     */
    BATCH,

    /** Kept units are multiplied by {@code 1 / (1 - dropProb)}, as inverted dropout does. */
    EXPECTED,

    /** Kept units are passed through unscaled. */
    NONE;

    /**
     * Returns the factor applied to the kept units.
     *
     * @param total the number of units in the mask
     * @param kept the number of units of the mask that were kept
     * @param dropProb the requested drop probability, in [0, 1)
     * @return the scale; 0 when {@link #BATCH} finds nothing kept
     */
    public double scale(long total, long kept, double dropProb) {
        switch (this) {
            case BATCH:
                return kept == 0 ? 0.0 : (double) total / kept;
            case EXPECTED:
                return 1.0 / (1.0 - dropProb);
            case NONE:
                return 1.0;
            default:
                throw new AssertionError(this);
        }
    }
}
