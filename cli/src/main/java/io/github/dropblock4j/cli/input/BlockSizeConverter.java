package io.github.dropblock4j.cli.input;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converts a DropBlock block size option ({@code --block-size}, {@code --block-sizes}): an integer
 * of at least 1. Every DropBlock clips it to its feature map, so there is no upper bound. Picocli
 * prefixes the message with the option, e.g. "Invalid value for option '--block-size': must be >=
 * 1, got 0".
 */
public final class BlockSizeConverter implements ITypeConverter<Integer> {

    /** {@inheritDoc} */
    @Override
    public Integer convert(String value) {
        int blockSize;
        try {
            blockSize = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not an int");
        }
        if (blockSize >= 1) {
            return blockSize;
        }
        throw new TypeConversionException("must be >= 1, got " + value);
    }
}
