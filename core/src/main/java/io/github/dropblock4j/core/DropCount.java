package io.github.dropblock4j.core;

/**
 * How many units DropBlock forwards saw and how many of them they zeroed: the realised drop rate,
 * which differs from the requested drop probability by the randomness of the seeds and, with {@link
 * GammaMode#PAPER}, by the overlap of blocks and their clipping on small maps. The DJL block and
 * the DL4J dropout count their training forwards; counts over several blocks add up with {@link
 * #plus(DropCount)}.
 *
 * @param units the units the forwards saw, at least 0
 * @param dropped the units they zeroed, in [0, units]
 */
public record DropCount(long units, long dropped) {

    /** No forward: no unit seen, none dropped. */
    public static final DropCount NONE = new DropCount(0, 0);

    /**
     * Checks the counts.
     *
     * @param units the units the forwards saw, at least 0
     * @param dropped the units they zeroed, in [0, units]
     * @throws IllegalArgumentException naming both counts unless {@code 0 <= dropped <= units}
     */
    public DropCount {
        if (units < 0 || dropped < 0 || dropped > units) {
            throw new IllegalArgumentException(
                    "dropped must be in [0, units], got dropped = "
                            + dropped
                            + ", units = "
                            + units);
        }
    }

    /**
     * Returns the fraction of the units seen that were zeroed.
     *
     * @return {@code dropped / units}, or NaN when no unit was seen
     */
    public double rate() {
        return units == 0 ? Double.NaN : (double) dropped / units;
    }

    /**
     * Returns the counts of this and another set of forwards together.
     *
     * @param other the other counts
     * @return the sums of the units and of the dropped units
     */
    public DropCount plus(DropCount other) {
        return new DropCount(
                Math.addExact(units, other.units), Math.addExact(dropped, other.dropped));
    }
}
