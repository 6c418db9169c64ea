package io.github.dropblock4j.cli.spark;

/**
 * How {@code spark-train} spreads training over Spark, saved as {@code spark.json} in the run
 * directory next to the shared settings of {@code config.json}. Immutable; the constructor checks
 * every setting and names the option, the rule and the value.
 *
 * @param master the Spark master the run used, e.g. {@code local[2]} or {@code spark://host:7077}
 * @param workers the workers that train side by side, each on its own minibatches
 * @param averagingFrequency the minibatches each worker fits between two parameter averagings
 */
public record SparkSettings(String master, int workers, int averagingFrequency) {

    /**
     * Checks every setting.
     *
     * @throws IllegalArgumentException naming the first bad option, its rule and its value
     */
    public SparkSettings {
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException(
                    "--master must be a Spark master URL, got " + master);
        }
        checkOptions(workers, averagingFrequency);
    }

    /**
     * Checks the options before Spark starts, which decides the workers when none are given.
     *
     * @param workers the workers, or null to leave them to Spark
     * @param averagingFrequency the minibatches between averagings
     * @throws IllegalArgumentException naming the first bad option, its rule and its value
     */
    public static void checkOptions(Integer workers, int averagingFrequency) {
        if (workers != null && (workers < 1 || workers > 4096)) {
            throw new IllegalArgumentException("--workers must be in [1, 4096], got " + workers);
        }
        if (averagingFrequency < 1 || averagingFrequency > 10_000) {
            throw new IllegalArgumentException(
                    "--averaging-frequency must be in [1, 10000], got " + averagingFrequency);
        }
    }
}
