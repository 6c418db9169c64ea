package io.github.dropblock4j.cli.input;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The block size of a ResNet's DropBlock stages as {@code --block-size} gives it: block sizes in
 * units, or fractions of each feature map's height and width, one for every DropBlock stage or one
 * per stage in the order of {@code --stages}. Exactly one of the two lists is present; how many
 * entries the stages need is checked where the stages are known ({@code TrainConfig}).
 *
 * @param sizes block sizes, each at least 1; null when fractions are given
 * @param fractions fractions of the map, each in (0, 1]; null when sizes are given
 */
public record StageBlockSizes(List<Integer> sizes, List<Double> fractions) {

    /**
     * Checks that exactly one list is given, not empty, with values in range.
     *
     * @param sizes block sizes, each at least 1; null when fractions are given
     * @param fractions fractions of the map, each in (0, 1]; null when sizes are given
     * @throws IllegalArgumentException naming the values if both or neither list is given, one is
     *     empty, or a value is out of range
     */
    public StageBlockSizes {
        if ((sizes == null) == (fractions == null)) {
            throw new IllegalArgumentException(
                    "exactly one of sizes and fractions must be given, got sizes = "
                            + sizes
                            + ", fractions = "
                            + fractions);
        }
        if (sizes != null) {
            sizes = List.copyOf(sizes);
            if (sizes.isEmpty() || sizes.stream().anyMatch(s -> s < 1)) {
                throw new IllegalArgumentException(
                        "block sizes must be >= 1, at least one, got " + sizes);
            }
        } else {
            fractions = List.copyOf(fractions);
            if (fractions.isEmpty() || fractions.stream().anyMatch(f -> !(f > 0 && f <= 1))) {
                throw new IllegalArgumentException(
                        "block fractions must be in (0, 1], at least one, got " + fractions);
            }
        }
    }

    /**
     * Returns one block size for every stage.
     *
     * @param size at least 1
     * @return the setting
     */
    public static StageBlockSizes of(int size) {
        return new StageBlockSizes(List.of(size), null);
    }

    /**
     * Returns the number of entries, 1 for every stage alike.
     *
     * @return at least 1
     */
    public int count() {
        return sizes != null ? sizes.size() : fractions.size();
    }

    /**
     * Tells whether the blocks are fractions of the map.
     *
     * @return true for fractions, false for sizes in units
     */
    public boolean isFraction() {
        return fractions != null;
    }

    /**
     * Returns the option's spelling, e.g. {@code 5,3} or {@code 0.36}.
     *
     * @return the values, comma-separated
     */
    @Override
    public String toString() {
        return (sizes != null ? sizes.stream() : fractions.stream())
                .map(v -> String.format(Locale.ROOT, "%s", v))
                .collect(Collectors.joining(","));
    }
}
