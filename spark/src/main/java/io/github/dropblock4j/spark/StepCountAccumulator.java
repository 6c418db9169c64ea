package io.github.dropblock4j.spark;

import org.apache.spark.util.AccumulatorV2;

/**
 * The number of training steps done, as the largest count any worker reports in an averaging round.
 * A maximum rather than a sum because the workers of a round train side by side: a round in which
 * the busiest worker fits six minibatches moves training six steps on, however many workers there
 * are. The maximum is also idempotent, so a task that Spark runs twice counts once.
 *
 * <p>Spark merges the workers' copies on the driver; each copy is used by one task thread.
 */
final class StepCountAccumulator extends AccumulatorV2<Integer, Integer> {

    private static final long serialVersionUID = 1L;

    private int steps;

    /** {@inheritDoc} */
    @Override
    public boolean isZero() {
        return steps == 0;
    }

    /** {@inheritDoc} */
    @Override
    public StepCountAccumulator copy() {
        StepCountAccumulator copy = new StepCountAccumulator();
        copy.steps = steps;
        return copy;
    }

    /** {@inheritDoc} */
    @Override
    public void reset() {
        steps = 0;
    }

    /**
     * Records that a worker has reached a step count.
     *
     * @param stepsDone the steps done, counting the one just finished
     */
    @Override
    public void add(Integer stepsDone) {
        steps = Math.max(steps, stepsDone);
    }

    /** {@inheritDoc} */
    @Override
    public void merge(AccumulatorV2<Integer, Integer> other) {
        steps = Math.max(steps, other.value());
    }

    /**
     * Returns the largest step count reported.
     *
     * @return the steps done, 0 when nothing was reported
     */
    @Override
    public Integer value() {
        return steps;
    }
}
