package io.github.dropblock4j.cli.figure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.CliRunner;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskCommandTest {

    // The panels' geometry: 28 x 28 images drawn 8 times larger under a 28-pixel title band.
    private static final int SIDE = 28 * 8;
    private static final int TITLE = 28;

    @Test
    void maskRendersTheImageAndThreePanelsWithDroppedUnits(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("mask.png");
        CliRunner.Result r = CliRunner.run("mask", "--out", png.toString());
        assertEquals(0, r.exitCode(), r.err());
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(4 * SIDE, image.getWidth());
        assertEquals(TITLE + SIDE, image.getHeight());
        assertEquals(0, dropped(image, 0), "the image panel drops nothing");
        // p = 0.3 on 784 units: dropout and both DropBlocks drop some. A panel that showed no
        // mask (or an all-kept one) would have none.
        for (int panel = 1; panel < 4; panel++) {
            assertTrue(dropped(image, panel) > 0, "panel " + panel + " shows no dropped unit");
        }
    }

    @Test
    void blockSizesMustBeTwo(@TempDir Path tmp) {
        CliRunner.Result r =
                CliRunner.run(
                        "mask", "--out", tmp.resolve("m.png").toString(), "--block-sizes", "3");
        assertEquals(2, r.exitCode());
        assertTrue(
                r.err().startsWith("dropblock4j: --block-sizes must be two sizes, got [3]"),
                r.err());
    }

    @Test
    void blockSizeBelowOneIsRefusedAsEverywhere(@TempDir Path tmp) {
        CliRunner.Result r =
                CliRunner.run(
                        "mask", "--out", tmp.resolve("m.png").toString(), "--block-sizes", "3,0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("'--block-sizes' (A,B): must be >= 1, got 0"), r.err());
    }

    /** Counts the dropped units a panel shows, each drawn as an 8 x 8 square. */
    private static int dropped(BufferedImage image, int panel) {
        int pixels = 0;
        for (int y = TITLE; y < TITLE + SIDE; y++) {
            for (int x = panel * SIDE; x < (panel + 1) * SIDE; x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == (MaskCommand.DROPPED.getRGB() & 0xFFFFFF)) {
                    pixels++;
                }
            }
        }
        assertEquals(0, pixels % 64, "dropped units are whole squares");
        return pixels / 64;
    }
}
