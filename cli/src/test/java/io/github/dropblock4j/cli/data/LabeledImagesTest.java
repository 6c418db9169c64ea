package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LabeledImagesTest {

    // Means and standard deviations of a few bytes scaled to [0, 1], in float: a few ulps of 1.
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

    /** 40 images of 1 x 5 x 5 in 4 classes (label = index % 4); image i is all pixels i + 1. */
    private static LabeledImages numbered() {
        byte[] pixels = new byte[40 * 25];
        byte[] labels = new byte[40];
        for (int i = 0; i < 40; i++) {
            Arrays.fill(pixels, i * 25, (i + 1) * 25, (byte) (i + 1));
            labels[i] = (byte) (i % 4);
        }
        return new LabeledImages("numbered", 1, 5, 5, pixels, labels, List.of("a", "b", "c", "d"));
    }

    private static List<Integer> ids(LabeledImages images) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ids.add(images.pixel(i, 0, 2, 2));
        }
        return ids;
    }

    @Test
    void stratifiedSplitIsDisjointCompleteAndStratified() {
        LabeledImages images = numbered();
        LabeledImages.Split split = images.stratifiedSplit(3, 7);
        assertArrayEquals(new int[] {3, 3, 3, 3}, split.chosen().classCounts());
        assertArrayEquals(new int[] {7, 7, 7, 7}, split.rest().classCounts());
        List<Integer> chosen = ids(split.chosen());
        List<Integer> rest = ids(split.rest());
        List<Integer> all = new ArrayList<>(chosen);
        all.addAll(rest);
        all.sort(Integer::compare);
        assertEquals(ids(images), all, "every image once, in one part only");
        for (int i = 0; i < split.chosen().size(); i++) {
            assertEquals(
                    (chosen.get(i) - 1) % 4,
                    split.chosen().label(i),
                    "labels travel with their images");
        }
    }

    @Test
    void stratifiedSplitIsFixedBySeed() {
        LabeledImages images = numbered();
        assertEquals(
                ids(images.stratifiedSplit(3, 7).chosen()),
                ids(images.stratifiedSplit(3, 7).chosen()));
        assertNotEquals(
                ids(images.stratifiedSplit(3, 7).chosen()),
                ids(images.stratifiedSplit(3, 8).chosen()));
    }

    @Test
    void stratifiedSplitMustLeaveEveryClassAnImage() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> numbered().stratifiedSplit(10, 1));
        assertEquals(
                "perClass must leave every class an image (smallest class: 10 images), got 10",
                e.getMessage());
    }

    /** A 1 x 4 x 4 image with distinct pixels 1..16. */
    private static LabeledImages gradient(int count) {
        byte[] pixels = new byte[count * 16];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i % 16 + 1);
        }
        return new LabeledImages("gradient", 1, 4, 4, pixels, new byte[count], List.of("x"));
    }

    /** The image shifted by (dy, dx) with zero fill, after an optional left-right mirror. */
    private static int[] shifted(LabeledImages image, int n, int dy, int dx, boolean flip) {
        int[] out = new int[16];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                int sy = y + dy;
                int sx = (flip ? 3 - x : x) + dx;
                out[y * 4 + x] =
                        sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? image.pixel(n, 0, sy, sx) : 0;
            }
        }
        return out;
    }

    @Test
    void augmentedImagesAreShiftedAndMirroredCopies() {
        LabeledImages images = gradient(50);
        LabeledImages augmented = images.augmented(2, new Random(3));
        int flipped = 0;
        for (int n = 0; n < 50; n++) {
            int[] actual = new int[16];
            for (int p = 0; p < 16; p++) {
                actual[p] = augmented.pixel(n, 0, p / 4, p % 4);
            }
            boolean found = false;
            for (int dy = -2; dy <= 2 && !found; dy++) {
                for (int dx = -2; dx <= 2 && !found; dx++) {
                    for (boolean flip : new boolean[] {false, true}) {
                        if (Arrays.equals(actual, shifted(images, n, dy, dx, flip))) {
                            found = true;
                            flipped += flip ? 1 : 0;
                            break;
                        }
                    }
                }
            }
            assertEquals(true, found, "image " + n + " is no shift or mirror of its original");
        }
        // Half the images are mirrored: 25 of 50 expected, sd 3.5; 5 sd either side.
        assertEquals(25, flipped, 18);
        assertArrayEquals(images.labels(), augmented.labels());
        assertEquals(images.toString(), augmented.toString());
    }

    @Test
    void augmentationIsFixedByTheRandomStream() {
        LabeledImages images = gradient(20);
        assertEquals(images.augmented(2, new Random(5)), images.augmented(2, new Random(5)));
        assertNotEquals(images.augmented(2, new Random(5)), images.augmented(2, new Random(6)));
    }

    @Test
    void augmentationPaddingMustFitTheImage() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> gradient(1).augmented(4, new Random(1)));
        assertEquals("padding must be in [0, 4) for 4 x 4 images, got 4", e.getMessage());
    }
}
