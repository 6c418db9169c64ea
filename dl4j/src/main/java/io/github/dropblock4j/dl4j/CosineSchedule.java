package io.github.dropblock4j.dl4j;

import java.util.Objects;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A DL4J learning-rate schedule on a half cosine, the twin of DJL's {@code CosineTracker}: {@code
 * initial * (1 + cos(pi * t / T)) / 2} at iteration {@code t < T}, 0 from {@code T} on. ND4J
 * 1.0.0-M2 has no cosine schedule.
 *
 * <p>It lives in the library, next to {@link KeepProbSchedule}, because a saved model names the
 * class of every schedule in its JSON: a model trained with it restores wherever {@code
 * dropblock4j-dl4j} is on the class path. Immutable and thread safe; round-trips through DL4J's
 * JSON and Java serialization.
 */
public final class CosineSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    /** The value at iteration 0. */
    @JsonProperty private final double initialValue;

    /** The iterations to reach 0. */
    @JsonProperty private final int totalIterations;

    /**
     * Creates the schedule.
     *
     * @param initialValue the value at iteration 0, at least 0
     * @param totalIterations the iterations to reach 0, at least 1
     * @throws IllegalArgumentException if an argument is out of range
     */
    @JsonCreator
    public CosineSchedule(
            @JsonProperty("initialValue") double initialValue,
            @JsonProperty("totalIterations") int totalIterations) {
        if (!(initialValue >= 0 && Double.isFinite(initialValue))) {
            throw new IllegalArgumentException(
                    "initialValue must be finite and >= 0, got " + initialValue);
        }
        if (totalIterations < 1) {
            throw new IllegalArgumentException(
                    "totalIterations must be >= 1, got " + totalIterations);
        }
        this.initialValue = initialValue;
        this.totalIterations = totalIterations;
    }

    /**
     * Returns the value at an iteration.
     *
     * @param iteration the iteration, from 0
     * @param epoch not used
     * @return the value on the cosine, 0 from {@code totalIterations} on
     */
    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration >= totalIterations) {
            return 0;
        }
        return initialValue
                * (1 + Math.cos(Math.PI * Math.max(0, iteration) / totalIterations))
                / 2;
    }

    /**
     * Returns this schedule, which is immutable.
     *
     * @return this
     */
    @Override
    public CosineSchedule clone() {
        return this;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CosineSchedule)) {
            return false;
        }
        CosineSchedule other = (CosineSchedule) o;
        return Double.compare(initialValue, other.initialValue) == 0
                && totalIterations == other.totalIterations;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(initialValue, totalIterations);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "CosineSchedule(" + initialValue + ", " + totalIterations + ")";
    }
}
