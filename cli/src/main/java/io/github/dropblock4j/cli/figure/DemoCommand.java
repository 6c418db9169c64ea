package io.github.dropblock4j.cli.figure;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.cli.input.BlockSizeOption;
import io.github.dropblock4j.cli.input.DropProbOption;
import io.github.dropblock4j.cli.input.SeedOption;
import io.github.dropblock4j.djl.DropBlock;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Applies DropBlock to an image-shaped batch and prints the realised drop rate next to the one
 * asked for, with a picture of one channel's mask.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "Apply DropBlock to a batch of 32 x 64 feature maps and print the realised drop"
                        + " rate and one channel's mask.")
public final class DemoCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Mixin private BlockSizeOption blockSize;

    @Mixin private DropProbOption dropProb;

    @Option(
            names = "--size",
            description = "Feature map height and width (default: ${DEFAULT-VALUE}).")
    private int size = 28;

    @Mixin private SeedOption seed;

    /** {@inheritDoc} */
    @Override
    public Integer call() {
        if (size < 1 || size > 512) {
            throw new ParameterException(
                    spec.commandLine(), "--size must be in [1, 512], got " + size);
        }
        PrintWriter out = spec.commandLine().getOut();
        Engine.getInstance().setRandomSeed(seed.seed());
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.ones(new Shape(32, 64, size, size));
            NDArray y = DropBlock.dropBlock(x, dropProb.dropProb(), blockSize.blockSize(), true);
            float[] values = y.toFloatArray();
            long zeros = 0;
            for (float v : values) {
                zeros += v == 0f ? 1 : 0;
            }
            out.printf(
                    "DropBlock on (32, 64, %d, %d), block %d: asked drop rate %.4f, realised %.4f%n",
                    size,
                    size,
                    blockSize.blockSize(),
                    dropProb.dropProb(),
                    (double) zeros / values.length);
            out.println("mask of sample 0, channel 0 ('#' kept, '.' dropped):");
            for (int r = 0; r < size; r++) {
                StringBuilder row = new StringBuilder(size);
                for (int c = 0; c < size; c++) {
                    row.append(values[r * size + c] == 0f ? '.' : '#');
                }
                out.println(row);
            }
        }
        out.flush();
        return 0;
    }
}
