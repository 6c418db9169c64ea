package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

class LabeledImagesTest {

    // float32 of (p / 255 - m) / s with |result| < 10: a few ulps of 10.
    private static final float FLOAT_TOLERANCE = 1e-5f;
    private static final List<String> THREE = List.of("a", "b", "c");

    /** Five images of 2 channels x 2 x 3, pixel value 10 * image + 5 * channel + position. */
    private static LabeledImages fiveImages() {
        byte[] pixels = new byte[5 * 2 * 2 * 3];
        for (int i = 0; i < pixels.length; i++) {
            int image = i / 12;
            int channel = (i / 6) % 2;
            pixels[i] = (byte) (10 * image + 5 * channel + i % 6);
        }
        return new LabeledImages("five", 2, 2, 3, pixels, new byte[] {2, 0, 1, 2, 0}, THREE);
    }

    @Test
    void toStringNamesCountShapeAndClasses() {
        assertEquals("five: 5 images of 2 x 2 x 3, 3 classes", fiveImages().toString());
    }

    @Test
    void pixelsAreInImageChannelRowColumnOrder() {
        LabeledImages images = fiveImages();
        assertEquals(10 * 3 + 5 + 1 * 3 + 2, images.pixel(3, 1, 1, 2));
        assertEquals(0, images.pixel(0, 0, 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> images.pixel(0, 2, 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> images.pixel(5, 0, 0, 0));
    }

    @Test
    void accessorsReturnCopies() {
        LabeledImages images = fiveImages();
        images.pixels()[0] = 99;
        images.labels()[0] = 1;
        assertEquals(0, images.pixel(0, 0, 0, 0));
        assertEquals(2, images.label(0));
    }

    @Test
    void classCountsCountEveryLabel() {
        assertArrayEquals(new int[] {2, 1, 2}, fiveImages().classCounts());
    }

    @Test
    void channelStatisticsMatchTheDefinition() {
        byte[] pixels = {0, (byte) 255, 51, 51, (byte) 255, (byte) 255, 0, 0};
        LabeledImages images =
                new LabeledImages("s", 2, 1, 2, pixels, new byte[] {0, 0}, List.of("x"));
        // Channel 0 holds 0, 1, 1, 1 (scaled); channel 1 holds 0.2, 0.2, 0, 0.
        assertArrayEquals(new float[] {0.75f, 0.1f}, images.channelMeans(), FLOAT_TOLERANCE);
        assertArrayEquals(
                new float[] {(float) Math.sqrt(0.1875), 0.1f},
                images.channelStds(),
                FLOAT_TOLERANCE);
    }

    @Test
    void subsetKeepsTheFirstImages() {
        LabeledImages images = fiveImages();
        LabeledImages first = images.subset(2);
        assertEquals("five (first 2): 2 images of 2 x 2 x 3, 3 classes", first.toString());
        assertArrayEquals(new int[] {2, 0}, first.labels());
        assertArrayEquals(Arrays.copyOf(images.pixels(), 24), first.pixels());
        assertSame(images, images.subset(5));
        assertEquals(
                "limit must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> images.subset(0)).getMessage());
    }

    @Test
    void stratifiedSubsetTakesPerClassOfEveryClassWithTheirPixels() {
        LabeledImages images = fiveImages();
        LabeledImages subset = images.stratifiedSubset(1, 4);
        assertArrayEquals(new int[] {1, 1, 1}, subset.classCounts());
        int[] indices = StratifiedSubset.indices(images.labels(), 3, 1, 4);
        for (int i = 0; i < indices.length; i++) {
            assertEquals(images.label(indices[i]), subset.label(i));
            assertEquals(images.pixel(indices[i], 1, 1, 2), subset.pixel(i, 1, 1, 2));
        }
        assertEquals("five (1 per class, seed 4)", subset.name());
    }

    @Test
    void equalityIsByValue() {
        assertEquals(fiveImages(), fiveImages());
        assertEquals(fiveImages().hashCode(), fiveImages().hashCode());
        assertNotEquals(fiveImages(), fiveImages().subset(4));
    }

    @Test
    void constructorRejectsPixelsThatDoNotMatchTheShape() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new LabeledImages("x", 1, 2, 2, new byte[7], new byte[2], THREE));
        assertEquals(
                "pixels must hold labels.length * channels * height * width = 8 values, got 7",
                e.getMessage());
    }

    @Test
    void arrayDatasetHoldsStandardisedFloatsAndFloatLabels()
            throws IOException, TranslateException {
        LabeledImages images = fiveImages();
        float[] mean = {0.1f, 0.2f};
        float[] std = {0.5f, 0.25f};
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset dataset = images.toArrayDataset(manager, mean, std, 2, false);
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
                    images.toArrayDataset(manager, new float[2], new float[] {1, 1}, 5, true);
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
            fiveImages().toArrayDataset(manager, new float[2], new float[] {1, 1}, 1, false);
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
                                            images.toArrayDataset(
                                                    manager, new float[1], two, 1, false))
                            .getMessage());
            assertEquals(
                    "std must be > 0 for every channel, got 0.0 for channel 1",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            images.toArrayDataset(
                                                    manager, two, new float[] {1, 0}, 1, false))
                            .getMessage());
            assertEquals(
                    "mean must be finite, got NaN for channel 0",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            images.toArrayDataset(
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
                                    () -> images.toArrayDataset(manager, two, two, 0, false))
                            .getMessage());
        }
    }
}
