package io.github.dropblock4j.cli.input;

import picocli.CommandLine.Option;

/**
 * The {@code --block-size} option of the commands that apply DropBlock with one block size: a
 * picocli mixin, so the option, its default, its rule ({@link BlockSizeConverter}) and its help are
 * declared once.
 */
public final class BlockSizeOption {

    @Option(
            names = "--block-size",
            converter = BlockSizeConverter.class,
            description = "DropBlock block size (default: ${DEFAULT-VALUE}).")
    private int blockSize = 7;

    /**
     * Returns the block size given, or the default.
     *
     * @return the block size, at least 1
     */
    public int blockSize() {
        return blockSize;
    }
}
