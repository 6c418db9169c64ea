package io.github.dropblock4j.cli.input;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converts the {@code --block-size} option of the training commands into {@link StageBlockSizes}:
 * comma-separated values, all integers (block sizes, each at least 1, e.g. {@code 5,3}) or all
 * numbers with a decimal point (fractions of each feature map's height and width, each in (0, 1],
 * e.g. {@code 0.36}). The decimal point tells the two apart, so {@code 1} is a 1x1 block (dropout)
 * and {@code 1.0} a block as large as the map. Picocli prefixes the message with the option, e.g.
 * "Invalid value for option '--block-size': a fraction of the map must be in (0, 1], got 1.5".
 */
public final class StageBlockSizesConverter implements ITypeConverter<StageBlockSizes> {

    /** {@inheritDoc} */
    @Override
    public StageBlockSizes convert(String value) {
        String[] parts = value.split(",", -1);
        List<Integer> sizes = new ArrayList<>();
        List<Double> fractions = new ArrayList<>();
        for (String part : parts) {
            String text = part.strip();
            if (text.contains(".")) {
                double fraction;
                try {
                    fraction = Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw notABlock(part, value);
                }
                if (!(fraction > 0 && fraction <= 1)) {
                    throw new TypeConversionException(
                            "a fraction of the map must be in (0, 1], got " + part);
                }
                fractions.add(fraction);
            } else {
                int size;
                try {
                    size = Integer.parseInt(text);
                } catch (NumberFormatException e) {
                    throw notABlock(part, value);
                }
                if (size < 1) {
                    throw new TypeConversionException("must be >= 1, got " + part);
                }
                sizes.add(size);
            }
        }
        if (!sizes.isEmpty() && !fractions.isEmpty()) {
            throw new TypeConversionException(
                    "give all block sizes (integers) or all fractions (with a decimal point),"
                            + " got "
                            + value);
        }
        return sizes.isEmpty()
                ? new StageBlockSizes(null, fractions)
                : new StageBlockSizes(sizes, null);
    }

    private static TypeConversionException notABlock(String part, String value) {
        return new TypeConversionException(
                "'"
                        + part
                        + "' in '"
                        + value
                        + "' is neither a block size (an integer >= 1) nor a fraction of the map"
                        + " (in (0, 1], with a decimal point)");
    }
}
