package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StratifiedSubsetTest {

    // Each example of a class of 10 is chosen with probability 3/10 when 3 are taken per class.
    // Over 4000 seeds its frequency has standard error sqrt(0.3 * 0.7 / 4000) = 0.0072; 5 SE
    // bounds all 40 frequencies with a false-alarm rate below 1e-5.
    private static final int SEEDS = 4000;
    private static final double FREQUENCY_TOLERANCE = 5 * Math.sqrt(0.3 * 0.7 / SEEDS);

    private static int[] shuffledLabels(int classes, int perClass, long seed) {
        int[] labels = new int[classes * perClass];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % classes;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = labels.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = labels[i];
            labels[i] = labels[j];
            labels[j] = swap;
        }
        return labels;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17})
    void choosesPerClassDistinctExamplesOfEveryClassInAscendingOrder(int perClass) {
        int[] labels = shuffledLabels(5, 20, perClass);

        int[] chosen = StratifiedSubset.indices(labels, 5, perClass, 7);

        assertEquals(5 * perClass, chosen.length);
        int[] counts = new int[5];
        for (int i = 0; i < chosen.length; i++) {
            assertTrue(i == 0 || chosen[i - 1] < chosen[i], "ascending and distinct");
            counts[labels[chosen[i]]]++;
        }
        int[] expected = new int[5];
        Arrays.fill(expected, perClass);
        assertArrayEquals(expected, counts);
    }

    @Test
    void sameSeedChoosesTheSameExamples() {
        int[] labels = shuffledLabels(10, 50, 1);
        assertArrayEquals(
                StratifiedSubset.indices(labels, 10, 5, 99),
                StratifiedSubset.indices(labels, 10, 5, 99));
        assertFalse(
                Arrays.equals(
                        StratifiedSubset.indices(labels, 10, 5, 99),
                        StratifiedSubset.indices(labels, 10, 5, 100)));
    }

    @Test
    void everyExampleIsEquallyLikely() {
        int[] labels = shuffledLabels(4, 10, 3);
        int[] times = new int[labels.length];
        for (long seed = 0; seed < SEEDS; seed++) {
            for (int index : StratifiedSubset.indices(labels, 4, 3, seed)) {
                times[index]++;
            }
        }
        for (int i = 0; i < times.length; i++) {
            double frequency = (double) times[i] / SEEDS;
            assertEquals(0.3, frequency, FREQUENCY_TOLERANCE, "example " + i);
        }
    }

    @Test
    void allOfAClassCanBeTaken() {
        int[] labels = {1, 0, 1, 0};
        assertArrayEquals(new int[] {0, 1, 2, 3}, StratifiedSubset.indices(labels, 2, 2, 5));
    }

    @Test
    void classWithTooFewExamplesIsRejected() {
        int[] labels = {0, 0, 0, 1, 2, 2};
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> StratifiedSubset.indices(labels, 3, 2, 1));
        assertEquals("class 1 has 1 examples, fewer than perClass = 2", e.getMessage());
    }

    @Test
    void argumentsAreChecked() {
        int[] labels = {0, 1};
        assertEquals(
                "perClass must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> StratifiedSubset.indices(labels, 2, 0, 1))
                        .getMessage());
        assertEquals(
                "numClasses must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> StratifiedSubset.indices(labels, 0, 1, 1))
                        .getMessage());
        assertEquals(
                "labels must lie in [0, 1), got 1 at index 1",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> StratifiedSubset.indices(labels, 1, 1, 1))
                        .getMessage());
    }
}
