package io.github.dropblock4j.cli.train.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.TranslateException;
import io.github.dropblock4j.cli.data.LabeledImages;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DjlImagesTest {

    // float32 of (p / 255 - m) / s with |result| < 10: a few ulps of 10.
    private static final float FLOAT_TOLERANCE = 1e-5f;

    /** Five images of 2 channels x 2 x 3, pixel value 10 * image + 5 * channel + position. */
    private static LabeledImages fiveImages() {
        byte[] pixels = new byte[5 * 2 * 2 * 3];
        for (int i = 0; i < pixels.length; i++) {
            int image = i / 12;
            int channel = (i / 6) % 2;
            pixels[i] = (byte) (10 * image + 5 * channel + i % 6);
        }
        return new LabeledImages(
                "five", 2, 2, 3, pixels, new byte[] {2, 0, 1, 2, 0}, List.of("a", "b", "c"));
    }

    @Test
    void arrayDatasetHoldsStandardisedFloatsAndFloatLabels()
            throws IOException, TranslateException {
        LabeledImages images = fiveImages();
        float[] mean = {0.1f, 0.2f};
        float[] std = {0.5f, 0.25f};
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset dataset = DjlImages.toArrayDataset(images, manager, mean, std, 2, false);
            assertEquals(5, dataset.size());

            List<Integer> batchSizes = new ArrayList<>();
            List<Float> labels = new ArrayList<>();
            float[] values = new float[0];
            for (Batch batch : dataset.getData(manager)) {
                NDArray data = batch.getData().singletonOrThrow();
                NDArray label = batch.getLabels().singletonOrThrow();
                assertEquals(DataType.FLOAT32, data.getDataType());
                assertEquals(DataType.FLOAT32, label.getDataType());
                assertEquals(new Shape(batch.getSize(), 2, 2, 3), data.getShape());
                batchSizes.add(batch.getSize());
                for (float l : label.toFloatArray()) {
                    labels.add(l);
                }
                float[] more = data.toFloatArray();
                values = Arrays.copyOf(values, values.length + more.length);
                System.arraycopy(more, 0, values, values.length - more.length, more.length);
                batch.close();
            }

            assertEquals(List.of(2, 2, 1), batchSizes);
            assertEquals(List.of(2f, 0f, 1f, 2f, 0f), labels);
            byte[] pixels = images.pixels();
            for (int i = 0; i < pixels.length; i++) {
                int channel = (i / 6) % 2;
                float expected = ((pixels[i] & 0xff) / 255f - mean[channel]) / std[channel];
                assertEquals(expected, values[i], FLOAT_TOLERANCE, "value " + i);
            }
        }
    }

    @Test
    void shuffledDatasetVisitsEveryImageOnce() throws IOException, TranslateException {
        Engine.getInstance().setRandomSeed(3);
        LabeledImages images = fiveImages();
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset dataset =
                    DjlImages.toArrayDataset(
                            images, manager, new float[2], new float[] {1, 1}, 5, true);
            List<Float> firstPixels = new ArrayList<>();
            for (Batch batch : dataset.getData(manager)) {
                NDList data = batch.getData();
                float[] values = data.singletonOrThrow().toFloatArray();
                for (int i = 0; i < batch.getSize(); i++) {
                    firstPixels.add(values[i * 12] * 255f);
                }
                batch.close();
            }
            // Pixel (0, 0, 0) of image i is 10 * i.
            List<Float> inOrder = List.of(0f, 10f, 20f, 30f, 40f);
            List<Float> visited = roundAll(firstPixels);
            assertNotEquals(inOrder, visited, "shuffled");
            visited.sort(null);
            assertEquals(inOrder, visited);
        }
    }

    private static List<Float> roundAll(List<Float> values) {
        List<Float> rounded = new ArrayList<>();
        for (float v : values) {
            rounded.add((float) Math.round(v));
        }
        return rounded;
    }

    @Test
    void arraysBelongToTheGivenManagerAndNoScratchArrayIsLeft() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DjlImages.toArrayDataset(
                    fiveImages(), manager, new float[2], new float[] {1, 1}, 1, false);
            List<Shape> shapes = new ArrayList<>();
            for (NDArray array : manager.getManagedArrays()) {
                shapes.add(array.getShape());
            }
            shapes.sort((a, b) -> Long.compare(a.size(), b.size()));
            assertEquals(List.of(new Shape(5), new Shape(5, 2, 2, 3)), shapes);
        }
    }

    @Test
    void arrayDatasetArgumentsAreChecked() {
        LabeledImages images = fiveImages();
        float[] two = {0.5f, 0.5f};
        try (NDManager manager = NDManager.newBaseManager()) {
            assertEquals(
                    "mean must hold one value per channel (2), got 1",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            DjlImages.toArrayDataset(
                                                    images, manager, new float[1], two, 1, false))
                            .getMessage());
            assertEquals(
                    "std must be > 0 for every channel, got 0.0 for channel 1",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            DjlImages.toArrayDataset(
                                                    images,
                                                    manager,
                                                    two,
                                                    new float[] {1, 0},
                                                    1,
                                                    false))
                            .getMessage());
            assertEquals(
                    "mean must be finite, got NaN for channel 0",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            DjlImages.toArrayDataset(
                                                    images,
                                                    manager,
                                                    new float[] {Float.NaN, 0},
                                                    two,
                                                    1,
                                                    false))
                            .getMessage());
            assertEquals(
                    "batchSize must be >= 1, got 0",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            DjlImages.toArrayDataset(
                                                    images, manager, two, two, 0, false))
                            .getMessage());
        }
    }
}
