package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
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

    /** The images of a data set, each as the list of its float values. */
    private static List<List<Float>> images(ArrayDataset set, NDManager manager) {
        List<List<Float>> images = new ArrayList<>();
        for (long i = 0; i < set.size(); i++) {
            float[] values = set.get(manager, i).getData().head().toFloatArray();
            List<Float> image = new ArrayList<>();
            for (float v : values) {
                image.add(v);
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
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset validation = data.validation(manager, 50);
            int[] perClass = new int[10];
            for (long i = 0; i < validation.size(); i++) {
                perClass[(int) validation.get(manager, i).getLabels().head().getFloat()]++;
            }
            int[] twenty = new int[10];
            Arrays.fill(twenty, 20);
            assertEquals(Arrays.toString(twenty), Arrays.toString(perClass));
            Set<List<Float>> trained = new HashSet<>(images(data.train(manager, 50, 1), manager));
            List<List<Float>> held = images(validation, manager);
            assertTrue(
                    held.stream().noneMatch(trained::contains),
                    "a validation image is also trained on");
        }
    }

    @Test
    void withoutValidationSplitThereIsNoValidationSet() {
        ImageTrainingData data = new ImageTrainingData(TRAIN, TEST, config(500, 0, false, 3));
        assertEquals(0, data.validationSize());
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThrows(IllegalStateException.class, () -> data.validation(manager, 50));
        }
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
        try (NDManager manager = NDManager.newBaseManager()) {
            List<List<Float>> epoch1 = images(a.train(manager, 50, 1), manager);
            assertEquals(epoch1, images(b.train(manager, 50, 1), manager));
            assertNotEquals(epoch1, images(a.train(manager, 50, 2), manager));
            assertNotEquals(epoch1, images(plain.train(manager, 50, 1), manager));
            assertEquals(
                    images(plain.validation(manager, 50), manager),
                    images(a.validation(manager, 50), manager));
            ArrayDataset augmented = a.train(manager, 50, 1);
            assertEquals(100, augmented.size());
            assertEquals(
                    new Shape(1, 28, 28), augmented.get(manager, 0).getData().head().getShape());
        }
    }
}
