package io.github.dropblock4j.cli.figure;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.data.LabeledImages;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.input.BlockSizeConverter;
import io.github.dropblock4j.cli.input.DropProbConverter;
import io.github.dropblock4j.cli.input.SeedOption;
import io.github.dropblock4j.djl.DropBlock;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Renders DropBlock masks over a real image, as Figure 1 of the paper (arXiv 1810.12890) does: the
 * image, element-wise dropout, and DropBlock at two block sizes, side by side. Dropped units are
 * painted dark red over the image; every panel drops the same expected fraction.
 */
@Command(
        name = "mask",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Render a test image, dropout and DropBlock at two block sizes side by side, as"
                        + " Figure 1 of the paper does.")
public final class MaskCommand implements Callable<Integer> {

    private static final int ZOOM = 8;
    private static final int LABEL_HEIGHT = 28;

    /** The colour of dropped units: dark red, which no grey pixel of the image has. */
    public static final Color DROPPED = new Color(150, 20, 20);

    @Spec private CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            description = "PNG to write (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("mask.png");

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description = "Image source, as for train (default: ${DEFAULT-VALUE}).")
    String data = DataSource.EMBEDDED;

    @Option(names = "--index", description = "Which test image (default: ${DEFAULT-VALUE}).")
    int index;

    @Option(
            names = "--drop-prob",
            converter = DropProbConverter.class,
            description = "Drop probability of every panel (default: ${DEFAULT-VALUE}).")
    float dropProb = 0.3f;

    @Option(
            names = "--block-sizes",
            split = ",",
            paramLabel = "A,B",
            converter = BlockSizeConverter.class,
            description = "The two DropBlock block sizes (default: 3,7).")
    int[] blockSizes = {3, 7};

    @Mixin private SeedOption seed;

    @Override
    public Integer call() throws IOException {
        if (blockSizes.length != 2) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--block-sizes must be two sizes, got " + Arrays.toString(blockSizes));
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
            throw new BadInputException(
                    "--out "
                            + out
                            + ": directory "
                            + parent
                            + " does not exist or is not writable");
        }
        LabeledImages images = DataSource.resolve(data).test();
        if (index < 0 || index >= images.size()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--index must be in [0, " + images.size() + "), got " + index);
        }
        int h = images.height();
        int w = images.width();
        String[] titles = {
            "image: " + images.classNames().get(images.label(index)),
            String.format(Locale.ROOT, "dropout p=%.2f", dropProb),
            String.format(Locale.ROOT, "DropBlock b=%d", blockSizes[0]),
            String.format(Locale.ROOT, "DropBlock b=%d", blockSizes[1])
        };
        int[] sizes = {0, 1, blockSizes[0], blockSizes[1]};
        BufferedImage canvas =
                new BufferedImage(
                        4 * w * ZOOM, h * ZOOM + LABEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        g.setRenderingHint(
                RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        Engine.getInstance().setRandomSeed(seed.seed());
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int panel = 0; panel < 4; panel++) {
                float[] mask = new float[h * w];
                Arrays.fill(mask, 1f);
                if (sizes[panel] > 0) {
                    NDArray ones = manager.ones(new Shape(1, 1, h, w));
                    mask = DropBlock.dropBlock(ones, dropProb, sizes[panel], true).toFloatArray();
                }
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int v = images.pixel(index, 0, y, x);
                        g.setColor(mask[y * w + x] == 0f ? DROPPED : new Color(v, v, v));
                        g.fillRect(
                                panel * w * ZOOM + x * ZOOM, LABEL_HEIGHT + y * ZOOM, ZOOM, ZOOM);
                    }
                }
                g.setColor(Color.BLACK);
                g.drawString(titles[panel], panel * w * ZOOM + 6, 19);
            }
        }
        g.dispose();
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        ImageIO.write(canvas, "png", tmp.toFile());
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
