package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.run.Framework;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses {@code --framework} ({@link Framework#optionValue()}) and lists the spellings for the
 * help, for {@code train} and {@code ablate}.
 */
public final class FrameworkConverter implements ITypeConverter<Framework>, Iterable<String> {

    /** {@inheritDoc} */
    @Override
    public Framework convert(String value) {
        try {
            return Framework.of(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(
                    "must be one of " + String.join(", ", this) + ", got " + value);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Iterator<String> iterator() {
        return Framework.optionValues().iterator();
    }
}
