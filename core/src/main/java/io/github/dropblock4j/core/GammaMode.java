package io.github.dropblock4j.core;

/**
 * How the seed probability gamma of DropBlock is derived from the requested drop probability.
 *
 * <p>DropBlock (Ghiasi, Lin and Le, arXiv 1810.12890) zeroes a block of {@code block_size} units
 * around every seed, and seeds are Bernoulli(gamma) draws over the positions where a whole block
 * fits. Blocks overlap, so the fraction of zeroed units is not simply {@code gamma * block_size^2}.
 */
public enum GammaMode {
    /**
     * gamma is solved numerically so that the expected fraction of zeroed units equals the drop
     * probability exactly: with {@code k(x)} the number of valid seeds whose block covers position
     * {@code x}, the expected drop fraction is {@code mean_x(1 - (1 - gamma)^k(x))}, which is
     * increasing in gamma and is inverted by bisection. This is the default.
     */
    CALIBRATED,

    /**
     * Equation (1) of the paper, generalised to every spatial dimension with block sizes clipped to
     * the feature map: {@code gamma = p / prod(b_i) * prod(s_i / (s_i - b_i + 1))}. It ignores the
     * overlap of blocks, so the realised drop rate comes out 1-7% below {@code p}, as in
     * torchvision and the TF reference implementation.
     */
    PAPER
}
