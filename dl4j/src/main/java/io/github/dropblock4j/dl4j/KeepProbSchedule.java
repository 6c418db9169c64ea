package io.github.dropblock4j.dl4j;

import java.util.Objects;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The DropBlock paper's schedule of the keep probability as a DL4J {@link ISchedule}: {@code
 * keep_prob} falls linearly from 1 at iteration 0 to its target at iteration {@code
 * totalIterations}, and stays there. The paper (arXiv 1810.12890, section 3) found this works
 * better than a fixed {@code keep_prob}. At iteration {@code t < T}: {@code keep(t) = 1 - (1 -
 * target) * t / T}; from {@code T} on, {@code target}. Iterations are DL4J's, counted over all
 * epochs; the epoch is not used.
 *
 * <p>{@link #dropScaled(ISchedule, double)} scales another schedule's drop probability, {@code 1 -
 * keep}, by a constant factor, which is how {@link ResNetDropBlock} gives earlier stages smaller
 * drop probabilities.
 *
 * <p>Immutable and thread safe; round-trips through DL4J's JSON and Java serialization.
 */
public final class KeepProbSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    /** The keep probability the ramp ends at, in (0, 1]. */
    @JsonProperty private final double targetKeepProb;

    /** The iterations of the ramp, at least 1. */
    @JsonProperty private final int totalIterations;

    @JsonCreator
    private KeepProbSchedule(
            @JsonProperty("targetKeepProb") double targetKeepProb,
            @JsonProperty("totalIterations") int totalIterations) {
        if (!(targetKeepProb > 0 && targetKeepProb <= 1)) {
            throw new IllegalArgumentException(
                    "targetKeepProb must be in (0, 1], got " + targetKeepProb);
        }
        if (totalIterations < 1) {
            throw new IllegalArgumentException(
                    "totalIterations must be >= 1, got " + totalIterations);
        }
        this.targetKeepProb = targetKeepProb;
        this.totalIterations = totalIterations;
    }

    /**
     * Creates the paper's schedule: the keep probability falls linearly from 1.0 at iteration 0 to
     * {@code targetKeepProb} at iteration {@code totalIterations}, then stays there.
     *
     * @param targetKeepProb the final keep probability, in (0, 1]
     * @param totalIterations the iterations of the ramp, at least 1; typically the whole training
     * @return the schedule
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static KeepProbSchedule linear(double targetKeepProb, int totalIterations) {
        return new KeepProbSchedule(targetKeepProb, totalIterations);
    }

    /**
     * Creates a schedule whose drop probability is {@code dropFactor} times that of {@code base}:
     * {@code keep(t) = 1 - dropFactor * (1 - base(t))}.
     *
     * @param base the schedule of the keep probability to scale
     * @param dropFactor the factor on the drop probability, in [0, 1]
     * @return the scaled schedule
     * @throws IllegalArgumentException if the base is null or the factor out of range
     */
    public static ISchedule dropScaled(ISchedule base, double dropFactor) {
        return new DropScaled(base, dropFactor);
    }

    /**
     * Returns the keep probability the schedule ends at.
     *
     * @return the target, in (0, 1]
     */
    public double getTargetKeepProb() {
        return targetKeepProb;
    }

    /**
     * Returns the number of iterations the ramp takes.
     *
     * @return the iterations, at least 1
     */
    public int getTotalIterations() {
        return totalIterations;
    }

    /**
     * Returns the keep probability at an iteration.
     *
     * @param iteration the iteration, from 0
     * @param epoch not used
     * @return {@code 1 - (1 - target) * iteration / totalIterations}, and the target from {@code
     *     totalIterations} on
     */
    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration >= totalIterations) {
            return targetKeepProb;
        }
        // Rounding must not take the ramp below its target.
        double ramp = 1.0 - (1.0 - targetKeepProb) * Math.max(0, iteration) / totalIterations;
        return Math.max(ramp, targetKeepProb);
    }

    /**
     * Returns this schedule, which is immutable.
     *
     * @return this
     */
    @Override
    public KeepProbSchedule clone() {
        return this;
    }

    /**
     * Validates a deserialised instance through the constructor.
     *
     * @return the validated instance
     */
    private Object readResolve() {
        return new KeepProbSchedule(targetKeepProb, totalIterations);
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeepProbSchedule)) {
            return false;
        }
        KeepProbSchedule other = (KeepProbSchedule) o;
        return Double.compare(targetKeepProb, other.targetKeepProb) == 0
                && totalIterations == other.totalIterations;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(targetKeepProb, totalIterations);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "KeepProbSchedule.linear(" + targetKeepProb + ", " + totalIterations + ")";
    }

    /**
     * A schedule whose drop probability is a constant factor times another's: {@code keep(t) = 1 -
     * dropFactor * (1 - base(t))}. Immutable when its base is.
     */
    public static final class DropScaled implements ISchedule {

        private static final long serialVersionUID = 1L;

        /** The schedule of the keep probability that is scaled. */
        @JsonProperty private final ISchedule base;

        /** The factor on the base's drop probability, in [0, 1]. */
        @JsonProperty private final double dropFactor;

        @JsonCreator
        private DropScaled(
                @JsonProperty("base") ISchedule base,
                @JsonProperty("dropFactor") double dropFactor) {
            if (base == null) {
                throw new IllegalArgumentException("base must not be null, got null");
            }
            if (!(dropFactor >= 0 && dropFactor <= 1)) {
                throw new IllegalArgumentException(
                        "dropFactor must be in [0, 1], got " + dropFactor);
            }
            this.base = base;
            this.dropFactor = dropFactor;
        }

        /**
         * Returns the schedule that is scaled.
         *
         * @return the base schedule
         */
        public ISchedule getBase() {
            return base;
        }

        /**
         * Returns the factor on the base's drop probability.
         *
         * @return the factor, in [0, 1]
         */
        public double getDropFactor() {
            return dropFactor;
        }

        /**
         * Returns the scaled keep probability at an iteration and epoch.
         *
         * @param iteration the iteration, from 0
         * @param epoch the epoch, from 0
         * @return {@code 1 - dropFactor * (1 - base(iteration, epoch))}
         */
        @Override
        public double valueAt(int iteration, int epoch) {
            return 1.0 - dropFactor * (1.0 - base.valueAt(iteration, epoch));
        }

        /**
         * Returns a copy with the base schedule cloned.
         *
         * @return the copy
         */
        @Override
        public DropScaled clone() {
            return new DropScaled(base.clone(), dropFactor);
        }

        /**
         * Validates a deserialised instance through the constructor.
         *
         * @return the validated instance
         */
        private Object readResolve() {
            return new DropScaled(base, dropFactor);
        }

        /** {@inheritDoc} */
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof DropScaled)) {
                return false;
            }
            DropScaled other = (DropScaled) o;
            return Double.compare(dropFactor, other.dropFactor) == 0 && base.equals(other.base);
        }

        /** {@inheritDoc} */
        @Override
        public int hashCode() {
            return Objects.hash(base, dropFactor);
        }

        /** {@inheritDoc} */
        @Override
        public String toString() {
            return "KeepProbSchedule.dropScaled(" + base + ", " + dropFactor + ")";
        }
    }
}
