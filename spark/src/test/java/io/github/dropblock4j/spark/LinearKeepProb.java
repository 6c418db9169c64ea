package io.github.dropblock4j.spark;

import org.nd4j.linalg.schedule.ISchedule;

/**
 * The paper's ramp, keep probability 1 at iteration 0 falling linearly to a target at iteration
 * {@code total} and held there, written out here so the test states the numbers it expects.
 */
record LinearKeepProb(double target, int total) implements ISchedule {

    @Override
    public double valueAt(int iteration, int epoch) {
        return iteration >= total ? target : 1 - (1 - target) * iteration / total;
    }

    @Override
    public LinearKeepProb clone() {
        return this;
    }
}
