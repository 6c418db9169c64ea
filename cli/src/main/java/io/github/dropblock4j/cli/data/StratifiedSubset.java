package io.github.dropblock4j.cli.data;

import java.util.Arrays;
import java.util.Random;

/**
 * Chooses the same number of examples from every class, uniformly at random without replacement
 * within each class, reproducibly from a seed. The embedded Fashion-MNIST subset is made with it
 * (600 training and 100 test images per class).
 *
 * <p>The random stream is {@link java.util.Random}, whose algorithm the Java platform specifies, so
 * a seed chooses the same examples on every JVM. Class {@code c} takes the {@code perClass} first
 * entries of a partial Fisher-Yates shuffle of its examples' indices, classes in label order; the
 * result is sorted, so the subset keeps the original order of the examples.
 */
public final class StratifiedSubset {

    private StratifiedSubset() {}

    /**
     * Chooses {@code perClass} examples of every class.
     *
     * @param labels the label of each example, in {@code [0, numClasses)}
     * @param numClasses the number of classes, at least 1
     * @param perClass examples to choose per class, at least 1 and at most the smallest class
     * @param seed the seed of the choice
     * @return the chosen indices into {@code labels}, ascending, {@code perClass * numClasses} of
     *     them
     * @throws IllegalArgumentException if an argument is out of range or a class has fewer than
     *     {@code perClass} examples
     */
    public static int[] indices(int[] labels, int numClasses, int perClass, long seed) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        }
        if (perClass < 1) {
            throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        }
        int[] counts = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(
                        "labels must lie in [0, "
                                + numClasses
                                + "), got "
                                + labels[i]
                                + " at index "
                                + i);
            }
            counts[labels[i]]++;
        }
        int[][] members = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) {
            if (counts[c] < perClass) {
                throw new IllegalArgumentException(
                        "class "
                                + c
                                + " has "
                                + counts[c]
                                + " examples, fewer than perClass = "
                                + perClass);
            }
            members[c] = new int[counts[c]];
        }
        int[] filled = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            members[labels[i]][filled[labels[i]]++] = i;
        }
        Random random = new Random(seed);
        int[] chosen = new int[perClass * numClasses];
        int next = 0;
        for (int[] ofClass : members) {
            for (int i = 0; i < perClass; i++) {
                int j = i + random.nextInt(ofClass.length - i);
                int swap = ofClass[i];
                ofClass[i] = ofClass[j];
                ofClass[j] = swap;
                chosen[next++] = ofClass[i];
            }
        }
        Arrays.sort(chosen);
        return chosen;
    }
}
