package io.github.dropblock4j.cli.train;

/**
 * What one batch measured, training or held out: its images, the sum of their losses and how many
 * were classified right. Sums, so that batches of any size add up exactly.
 *
 * @param samples the images of the batch
 * @param lossSum the sum of their cross-entropies
 * @param correct the images whose highest-scoring class is their label
 */
public record BatchResult(long samples, double lossSum, long correct) {

    /** Nothing measured yet. */
    public static final BatchResult NONE = new BatchResult(0, 0, 0);

    /**
     * Adds another batch.
     *
     * @param other the other batch
     * @return the two together
     */
    public BatchResult plus(BatchResult other) {
        return new BatchResult(
                samples + other.samples, lossSum + other.lossSum, correct + other.correct);
    }

    /**
     * Returns the mean loss per image.
     *
     * @return {@code lossSum / samples}; NaN for no image
     */
    public double meanLoss() {
        return samples == 0 ? Double.NaN : lossSum / samples;
    }

    /**
     * Returns the accuracy.
     *
     * @return {@code correct / samples}; NaN for no image
     */
    public double accuracy() {
        return samples == 0 ? Double.NaN : (double) correct / samples;
    }
}
