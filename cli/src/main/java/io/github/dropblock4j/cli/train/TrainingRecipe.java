package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.Locale;

/**
 * How every run trains, whatever the framework: the one place where a {@link TrainConfig} becomes
 * an optimizer and schedules, read by the DJL and DL4J trainers and by {@code spark-train}, so that
 * {@code --framework} changes the framework and nothing else.
 *
 * <ul>
 *   <li>SGD with Nesterov momentum {@value #MOMENTUM} in the form DL4J's {@code Nesterovs} uses
 *       (Sutskever et al., 2013): {@code v = momentum * v - lr * g; w += -momentum * v_prev + (1 +
 *       momentum) * v}.
 *   <li>Weight decay applied after the momentum update and scaled by the learning rate, as DL4J's
 *       {@code WeightDecay}: {@code w -= lr * weightDecay * w}.
 *   <li>The learning rate on a half cosine from {@code learningRate} at step 0 to 0 at {@code
 *       totalSteps}: {@code lr(t) = learningRate * (1 + cos(pi * t / totalSteps)) / 2}.
 *   <li>The drop probability, for {@link TrainConfig.Schedule#LINEAR}, linear from 0 at step 0 to
 *       {@code dropProb} at {@code rampEndStep}, the run's last step, so that the last step trains
 *       at the target (arXiv 1810.12890, section 3); for {@link TrainConfig.Schedule#CONSTANT},
 *       {@code dropProb} from the first step.
 * </ul>
 *
 * <p>Steps count training steps over the whole run, from 0; step {@code t} trains with the values
 * at {@code t}.
 *
 * @param learningRate the learning rate at step 0
 * @param totalSteps the training steps of the run, at least 1
 * @param momentum the momentum of Nesterov's update
 * @param weightDecay the weight decay's coefficient
 * @param dropProb the target drop probability, 1 - keep_prob
 * @param dropSchedule how the drop probability moves
 * @param rampEndStep the step at which the linear ramp reaches its target: {@code totalSteps - 1},
 *     at least 1
 */
public record TrainingRecipe(
        float learningRate,
        int totalSteps,
        float momentum,
        float weightDecay,
        float dropProb,
        TrainConfig.Schedule dropSchedule,
        int rampEndStep) {

    /** The momentum of every run. */
    public static final float MOMENTUM = 0.9f;

    /**
     * Checks the step counts.
     *
     * @throws IllegalArgumentException naming the count if it is below 1
     */
    public TrainingRecipe {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        }
        if (rampEndStep < 1) {
            throw new IllegalArgumentException("rampEndStep must be >= 1, got " + rampEndStep);
        }
    }

    /**
     * Builds the recipe of a run.
     *
     * @param config the run's settings
     * @param stepsPerEpoch the training steps of one epoch, at least 1
     * @return the recipe
     * @throws IllegalArgumentException if {@code stepsPerEpoch} is below 1
     */
    public static TrainingRecipe of(TrainConfig config, int stepsPerEpoch) {
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("stepsPerEpoch must be >= 1, got " + stepsPerEpoch);
        }
        int totalSteps = stepsPerEpoch * config.epochs();
        return new TrainingRecipe(
                config.lr(),
                totalSteps,
                MOMENTUM,
                config.weightDecay(),
                config.dropProb(),
                config.schedule(),
                Math.max(1, totalSteps - 1));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "SGD with Nesterov momentum %s, weight decay %s, learning rate %s on a cosine to 0"
                        + " over %d steps, drop probability %s (%s, ramp ends at step %d)",
                momentum,
                weightDecay,
                learningRate,
                totalSteps,
                dropProb,
                dropSchedule.name().toLowerCase(Locale.ROOT),
                rampEndStep);
    }
}
