package io.github.dropblock4j.spark;

/**
 * Called on the driver after each parameter-averaging round of a {@link
 * ScheduleAwareTrainingMaster}, to show or record the progress of an epoch.
 */
@FunctionalInterface
public interface RoundListener {

    /**
     * Reports that a round has been averaged into the driver's network.
     *
     * @param round the round just done, from 1
     * @param rounds the rounds of this call to {@code fit}, usually one epoch
     * @param steps the training steps done since the start, the iteration the next round begins at
     * @param score the workers' mean loss on their last minibatch of the round
     */
    void roundDone(int round, int rounds, int steps, double score);
}
