package io.github.dropblock4j.cli.input;

import io.github.dropblock4j.core.DropBlockGamma;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converts a drop probability option ({@code --drop-prob}, {@code --drop-probs}): a float in [0,
 * 1), the rule of {@link DropBlockGamma#checkDropProb(double)}. Picocli prefixes the message with
 * the option, e.g. "Invalid value for option '--drop-prob': must be in [0, 1), got 1.5".
 */
public final class DropProbConverter implements ITypeConverter<Float> {

    /** {@inheritDoc} */
    @Override
    public Float convert(String value) {
        try {
            float dropProb = Float.parseFloat(value);
            DropBlockGamma.checkDropProb(dropProb);
            return dropProb;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a float");
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("must be in [0, 1), got " + value);
        }
    }
}
