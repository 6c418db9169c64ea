package io.github.dropblock4j.core;

/** Which units of an (N, C, spatial...) input share one DropBlock mask. */
public enum MaskSharing {
    /**
     * Every channel of every sample draws its own mask, as in Algorithm 1 of the paper (arXiv
     * 1810.12890), which found it works better than a shared mask. Mask shape (N, C, spatial...).
     * This is the default.
     */
    PER_CHANNEL,

    /** All channels of a sample share one mask. Mask shape (N, 1, spatial...). */
    PER_SAMPLE,

    /** Each channel has one mask shared by the whole batch. Mask shape (1, C, spatial...). */
    PER_BATCH;

    /**
     * Returns the shape of the mask for an input of the given shape; the mask broadcasts against
     * the input.
     *
     * @param inputShape the input's shape (N, C, spatial...)
     * @return the mask's shape, a new array
     */
    public long[] maskShape(long[] inputShape) {
        long[] shape = inputShape.clone();
        if (this == PER_SAMPLE) {
            shape[1] = 1;
        } else if (this == PER_BATCH) {
            shape[0] = 1;
        }
        return shape;
    }
}
