package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageTrainingDataTest {

    private static final LabeledImages TRAIN = DataSource.embedded().train();
    private static final LabeledImages TEST = DataSource.embedded().test();

    private static TrainConfig config(int trainLimit, int valSplit, boolean augment, int seed) {
        return TrainConfig.builder()
                .optTrainLimit(trainLimit)
                .optValSplit(valSplit)
                .optAugment(augment)
                .optSeed(seed)
                .build();
    }

    /** The images of a set, each as the list of its pixels. */
    private static List<List<Integer>> images(LabeledImages set) {
        List<List<Integer>> images = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            List<Integer> image = new ArrayList<>();
            for (int c = 0; c < set.channels(); c++) {
                for (int y = 0; y < set.height(); y++) {
                    for (int x = 0; x < set.width(); x++) {
                        image.add(set.pixel(i, c, y, x));
                    }
                }
            }
            images.add(image);
        }
        return images;
    }

    @Test
    void validationIsStratifiedAndDisjointFromTraining() {
        ImageTrainingData data = new ImageTrainingData(TRAIN, TEST, config(500, 200, false, 3));
        assertEquals(500, data.trainSize());
        assertEquals(200, data.validationSize());
        LabeledImages validation = data.validationImages();
        int[] twenty = new int[10];
        Arrays.fill(twenty, 20);
        assertArrayEquals(twenty, validation.classCounts());
        Set<List<Integer>> trained = new HashSet<>(images(data.trainImages(1)));
        assertTrue(
                images(validation).stream().noneMatch(trained::contains),
                "a validation image is also trained on");
    }

    @Test
    void withoutValidationSplitThereIsNoValidationSet() {
        ImageTrainingData data = new ImageTrainingData(TRAIN, TEST, config(500, 0, false, 3));
        assertEquals(0, data.validationSize());
        assertThrows(IllegalStateException.class, data::validationImages);
    }

    @Test
    void validationSplitSmallerThanTheClassesIsRejected() {
        BadInputException e =
                assertThrows(
                        BadInputException.class,
                        () -> new ImageTrainingData(TRAIN, TEST, config(500, 5, false, 3)));
        assertEquals(
                "--val-split must be at least the number of classes (10), got 5", e.getMessage());
    }

    @Test
    void augmentationIsFixedBySeedAndEpochAndTouchesOnlyTraining() {
        ImageTrainingData a = new ImageTrainingData(TRAIN, TEST, config(100, 100, true, 3));
        ImageTrainingData b = new ImageTrainingData(TRAIN, TEST, config(100, 100, true, 3));
        ImageTrainingData plain = new ImageTrainingData(TRAIN, TEST, config(100, 100, false, 3));
        List<List<Integer>> epoch1 = images(a.trainImages(1));
        assertEquals(epoch1, images(b.trainImages(1)));
        assertNotEquals(epoch1, images(a.trainImages(2)));
        assertNotEquals(epoch1, images(plain.trainImages(1)));
        assertEquals(plain.validationImages(), a.validationImages());
        assertEquals(plain.testImages(), a.testImages());
        assertEquals(100, a.trainImages(1).size());
        assertArrayEquals(new int[] {1, 28, 28}, a.imageShape());
    }
}
