package io.github.dropblock4j.spark;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The first images of the application's embedded Fashion-MNIST subset (a test resource), as
 * minibatches of NCHW float images scaled to [0, 1] with one-hot labels, optionally shrunk by
 * averaging square blocks of pixels (14x14 images train four times faster than 28x28).
 */
final class FashionMnistSubset {

    private static final int CLASSES = 10;
    private static final int SIDE = 28;

    private FashionMnistSubset() {}

    /**
     * Reads the first {@code batches * batchSize} images of a split.
     *
     * @param split "train" or "t10k"
     * @param shrink the side of the square of pixels averaged into one, 1 (none), 2, 4, 7 or 14
     */
    static List<DataSet> minibatches(String split, int batches, int batchSize, int shrink) {
        int count = batches * batchSize;
        int side = SIDE / shrink;
        byte[] pixels = read(split + "-images-idx3-ubyte.gz", 16, count * SIDE * SIDE);
        byte[] labels = read(split + "-labels-idx1-ubyte.gz", 8, count);
        List<DataSet> minibatches = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            float[] features = new float[batchSize * side * side];
            float[] oneHot = new float[batchSize * CLASSES];
            for (int i = 0; i < batchSize; i++) {
                int image = b * batchSize + i;
                for (int row = 0; row < SIDE; row++) {
                    for (int col = 0; col < SIDE; col++) {
                        int pixel = pixels[(image * SIDE + row) * SIDE + col] & 0xff;
                        features[(i * side + row / shrink) * side + col / shrink] +=
                                pixel / (255f * shrink * shrink);
                    }
                }
                oneHot[i * CLASSES + labels[image]] = 1;
            }
            INDArray x =
                    Nd4j.create(features, new long[] {batchSize, 1, side, side}, DataType.FLOAT);
            INDArray y = Nd4j.create(oneHot, new long[] {batchSize, CLASSES}, DataType.FLOAT);
            minibatches.add(new DataSet(x, y));
        }
        return minibatches;
    }

    private static byte[] read(String resource, int header, int length) {
        try (InputStream raw =
                FashionMnistSubset.class.getResourceAsStream("/fashion-mnist/" + resource)) {
            if (raw == null) {
                throw new IllegalStateException(
                        "test resource fashion-mnist/" + resource + " is missing");
            }
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw));
            in.skipNBytes(header);
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
