package io.github.dropblock4j.cli.run;

import com.google.gson.annotations.SerializedName;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The framework that trains a run, saved in {@code config.json} by its command-line spelling
 * ({@code djl}, {@code dl4j}), so run directories written before this type existed stay readable.
 */
public enum Framework {
    /** Deep Java Library on its PyTorch engine: the default. */
    @SerializedName("djl")
    DJL("Deep Java Library on PyTorch"),

    /** Deeplearning4j on ND4J's CPU backend. */
    @SerializedName("dl4j")
    DL4J("Deeplearning4j on ND4J");

    private final String description;

    Framework(String description) {
        this.description = description;
    }

    /**
     * Returns the command-line spelling, e.g. {@code dl4j}.
     *
     * @return the option value
     */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Returns what the framework runs on, for the help and the curves' title.
     *
     * @return e.g. "Deeplearning4j on ND4J"
     */
    public String description() {
        return description;
    }

    /**
     * Returns every command-line spelling, in declaration order.
     *
     * @return e.g. {@code [djl, dl4j]}
     */
    public static List<String> optionValues() {
        return Arrays.stream(values()).map(Framework::optionValue).toList();
    }

    /**
     * Parses a command-line spelling.
     *
     * @param value e.g. {@code dl4j}
     * @return the framework
     * @throws IllegalArgumentException naming the option, the values it takes and the value
     */
    public static Framework of(String value) {
        return Arrays.stream(values())
                .filter(f -> f.optionValue().equals(value))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "--framework must be one of "
                                                + optionValues()
                                                + ", got "
                                                + value));
    }
}
