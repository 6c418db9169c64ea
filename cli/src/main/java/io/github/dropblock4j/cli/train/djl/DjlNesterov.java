package io.github.dropblock4j.cli.train.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SGD with Nesterov momentum and weight decay as DL4J's {@code Nesterovs} updater and {@code
 * WeightDecay} regularization compute them, so that a DJL run and a DL4J run of one config take the
 * same steps ({@link io.github.dropblock4j.cli.train.TrainingRecipe}):
 *
 * <pre>
 * v_prev = v
 * v      = momentum * v - lr * g
 * w      = w - momentum * v_prev + (1 + momentum) * v - lr * weightDecay * w
 * </pre>
 *
 * with {@code g} the gradient times the rescale factor (and clipped, if asked), {@code w} on the
 * right the weight before the step, and {@code lr} the tracker's value at the update's index
 * counted from 0, as DL4J counts iterations. DJL has the algorithm ({@code Optimizer.nag()}), but
 * its PyTorch engine does not implement it ({@code nagUpdate} throws), so it is written here with
 * ordinary array operations, outside any gradient recording. The weight's gradient is zeroed after
 * the update, as the engine's own SGD does. The velocities are not saved with a model, as DJL saves
 * no optimizer state: a resumed run restarts them at 0. Not thread safe: one trainer steps it.
 */
final class DjlNesterov extends Optimizer {

    private final ParameterTracker learningRate;
    private final float momentum;
    private final Map<String, Map<Device, NDArray>> velocities = new ConcurrentHashMap<>();

    private DjlNesterov(Builder builder) {
        super(builder);
        this.learningRate = builder.learningRate;
        this.momentum = builder.momentum;
    }

    /**
     * Returns a builder.
     *
     * @return a new builder
     */
    static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        float lr = learningRate.getNewValue(parameterId, updateCount(parameterId) - 1);
        float weightDecay = getWeightDecay();
        NDArray velocity =
                withDefaultState(
                        velocities, parameterId, weight.getDevice(), k -> weight.zerosLike());
        try (NDArray scaled = grad.mul(rescaleGrad);
                NDArray g = clipGrad > 0 ? scaled.clip(-clipGrad, clipGrad) : scaled.duplicate();
                NDArray previous = velocity.duplicate()) {
            velocity.muli(momentum).subi(g.muli(lr));
            try (NDArray step = velocity.mul(1 + momentum)) {
                step.subi(previous.muli(momentum));
                if (weightDecay > 0) {
                    try (NDArray decay = weight.mul(lr * weightDecay)) {
                        step.subi(decay);
                    }
                }
                weight.addi(step);
            }
        }
        // The gradient handed in is the parameter store's copy: zero the weight's own, which
        // the engine would otherwise add the next step's to.
        try (NDArray live = weight.getGradient()) {
            live.subi(live);
        }
    }

    /** Builds a {@link DjlNesterov}. Not thread safe. */
    static final class Builder extends OptimizerBuilder<Builder> {

        private ParameterTracker learningRate;
        private float momentum;

        private Builder() {}

        /**
         * Sets the learning rate's schedule, on the update's index counted from 0.
         *
         * @param learningRate the schedule
         * @return this builder
         */
        Builder setLearningRateTracker(ParameterTracker learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        /**
         * Sets the momentum.
         *
         * @param momentum in [0, 1)
         * @return this builder
         */
        Builder setMomentum(float momentum) {
            this.momentum = momentum;
            return this;
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Builds the optimizer.
         *
         * @return the optimizer
         * @throws NullPointerException without a learning-rate schedule
         * @throws IllegalArgumentException if the momentum is outside [0, 1)
         */
        DjlNesterov build() {
            Objects.requireNonNull(learningRate, "learningRate");
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
            }
            return new DjlNesterov(this);
        }
    }
}
