package io.github.dropblock4j.cli.train.dl4j;

import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The minibatches of a {@link LabeledImages} as ND4J data sets for {@code train --framework dl4j}
 * and {@code spark-train}, standardised as every framework's batches are: {@code (pixel / 255 -
 * mean[c]) / std[c]}, labels one-hot. A batch is built when asked for, so an epoch holds one
 * batch's arrays at a time.
 */
public final class Nd4jBatches {

    private final LabeledImages images;
    private final float[] mean;
    private final float[] std;
    private final int classes;
    private final int batchSize;
    private final int[] order;

    /**
     * Cuts images of a run into batches, standardised with the run's training statistics.
     *
     * @param data the run's images, whose mean, standard deviation and classes apply
     * @param images the images to cut: an epoch's training images, the validation or the test
     *     images
     * @param batchSize the batch size; the last batch may be smaller
     * @param shuffle draws the order of the images, or null to keep it
     * @return the batches
     */
    public static Nd4jBatches of(
            ImageTrainingData data, LabeledImages images, int batchSize, Random shuffle) {
        return new Nd4jBatches(images, data.mean(), data.std(), data.classes(), batchSize, shuffle);
    }

    private Nd4jBatches(
            LabeledImages images,
            float[] mean,
            float[] std,
            int classes,
            int batchSize,
            Random shuffle) {
        this.images = images;
        this.mean = mean;
        this.std = std;
        this.classes = classes;
        this.batchSize = batchSize;
        order = new int[images.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (shuffle != null) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = shuffle.nextInt(i + 1);
                int swap = order[i];
                order[i] = order[j];
                order[j] = swap;
            }
        }
    }

    /**
     * Returns the number of batches.
     *
     * @return the batches, the last one possibly smaller
     */
    public int size() {
        return (order.length + batchSize - 1) / batchSize;
    }

    /**
     * Builds one batch.
     *
     * @param index the batch, in [0, size())
     * @return its features, (n, channels, height, width), and one-hot labels, (n, classes)
     */
    public DataSet get(int index) {
        int from = index * batchSize;
        int n = Math.min(batchSize, order.length - from);
        int channels = images.channels();
        int plane = images.height() * images.width();
        float[] features = new float[n * channels * plane];
        float[] labels = new float[n * classes];
        for (int k = 0; k < n; k++) {
            int image = order[from + k];
            for (int c = 0; c < channels; c++) {
                int offset = (k * channels + c) * plane;
                for (int y = 0; y < images.height(); y++) {
                    for (int x = 0; x < images.width(); x++) {
                        float pixel = images.pixel(image, c, y, x) / 255f;
                        features[offset + y * images.width() + x] = (pixel - mean[c]) / std[c];
                    }
                }
            }
            labels[k * classes + images.label(image)] = 1f;
        }
        INDArray featureArray =
                Nd4j.create(
                        features, new long[] {n, channels, images.height(), images.width()}, 'c');
        INDArray labelArray = Nd4j.create(labels, new long[] {n, classes}, 'c');
        return new DataSet(featureArray, labelArray);
    }
}
