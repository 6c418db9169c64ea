package io.github.dropblock4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;

/**
 * The timed step of the speed comparison: a training-mode forward of a prepared {@link Contender},
 * or that forward and the backward pass from its output.
 *
 * <p>A step runs on a fresh {@link #input} attached to the step's own manager, so closing that
 * manager frees the input, the output and the gradients.
 */
public enum Pass {
    /** The training-mode forward alone. */
    FORWARD("fwd"),

    /** The forward, then backward from the output with a gradient of ones. */
    FORWARD_BACKWARD("fwd+bwd");

    private final String label;

    Pass(String label) {
        this.label = label;
    }

    /**
     * Returns the pass's name in tables.
     *
     * @return {@code fwd} or {@code fwd+bwd}
     */
    public String label() {
        return label;
    }

    /**
     * Creates a fresh input for one step: a copy of {@code source} attached to {@code step}, which
     * records its gradient when the pass runs backward.
     *
     * @param step the manager of one step, closed after it
     * @param source the input values
     * @return the input
     */
    public NDArray input(NDManager step, NDArray source) {
        NDArray input = source.duplicate();
        input.attach(step);
        if (this == FORWARD_BACKWARD) {
            input.setRequiresGradient(true);
        }
        return input;
    }

    /**
     * Runs the step.
     *
     * @param forward a prepared contender
     * @param input the input, from {@link #input}
     * @return the contender's output
     */
    public NDArray run(UnaryOperator<NDArray> forward, NDArray input) {
        if (this == FORWARD) {
            return forward.apply(input);
        }
        try (GradientCollector collector = input.getManager().getEngine().newGradientCollector()) {
            NDArray output = forward.apply(input);
            collector.backward(output);
            return output;
        }
    }
}
