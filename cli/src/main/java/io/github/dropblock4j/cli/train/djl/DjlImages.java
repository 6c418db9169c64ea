package io.github.dropblock4j.cli.train.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import io.github.dropblock4j.cli.data.LabeledImages;
import java.nio.ByteBuffer;

/**
 * {@link LabeledImages} as a DJL {@link ArrayDataset}, standardised as every framework's batches
 * are: {@code (pixel / 255 - mean[c]) / std[c]}.
 */
public final class DjlImages {

    private DjlImages() {}

    /**
     * Makes a DJL dataset of the images: data float32 (N, C, H, W), each pixel scaled to [0, 1]
     * then standardised per channel, {@code (p / 255 - mean[c]) / std[c]}; labels float32 (N). The
     * arrays are attached to {@code manager}.
     *
     * @param images the images
     * @param manager the manager that will own the arrays
     * @param mean the mean of each channel to subtract, on the [0, 1] scale (for example {@link
     *     LabeledImages#channelMeans()} of the training set)
     * @param std the standard deviation of each channel to divide by, positive and finite
     * @param batchSize images per batch, at least 1
     * @param shuffle whether each pass visits the images in a new random order (the engine's random
     *     seed fixes it)
     * @return the dataset
     * @throws IllegalArgumentException if {@code mean} or {@code std} is not one finite value per
     *     channel, a {@code std} is not positive, or {@code batchSize} is below 1
     */
    public static ArrayDataset toArrayDataset(
            LabeledImages images,
            NDManager manager,
            float[] mean,
            float[] std,
            int batchSize,
            boolean shuffle) {
        int channels = images.channels();
        checkPerChannel("mean", mean, channels);
        checkPerChannel("std", std, channels);
        for (int c = 0; c < channels; c++) {
            if (!(std[c] > 0)) {
                throw new IllegalArgumentException(
                        "std must be > 0 for every channel, got " + std[c] + " for channel " + c);
            }
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        Shape perChannel = new Shape(1, channels, 1, 1);
        NDArray data;
        try (NDManager scratch = manager.newSubManager()) {
            NDArray bytes =
                    scratch.create(
                            ByteBuffer.wrap(images.pixels()),
                            new Shape(images.size(), channels, images.height(), images.width()),
                            DataType.UINT8);
            // In place after the one conversion: the float copy is the only large allocation.
            data = bytes.toType(DataType.FLOAT32, true);
            data.divi(255f);
            data.subi(scratch.create(mean, perChannel));
            data.divi(scratch.create(std, perChannel));
            data.attach(manager);
        }
        int[] labels = images.labels();
        float[] labelValues = new float[labels.length];
        for (int i = 0; i < labelValues.length; i++) {
            labelValues[i] = labels[i];
        }
        NDArray labelArray = manager.create(labelValues);
        return new ArrayDataset.Builder()
                .setData(data)
                .optLabels(labelArray)
                .setSampling(batchSize, shuffle)
                .build();
    }

    private static void checkPerChannel(String argument, float[] values, int channels) {
        if (values.length != channels) {
            throw new IllegalArgumentException(
                    argument
                            + " must hold one value per channel ("
                            + channels
                            + "), got "
                            + values.length);
        }
        for (int c = 0; c < channels; c++) {
            if (!Float.isFinite(values[c])) {
                throw new IllegalArgumentException(
                        argument + " must be finite, got " + values[c] + " for channel " + c);
            }
        }
    }
}
