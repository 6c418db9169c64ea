package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskCommandTest {

    @Test
    void maskRendersFourPanels(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("mask.png");
        CliRunner.Result r = CliRunner.run("mask", "--out", png.toString());
        assertEquals(0, r.exitCode(), r.err());
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(4 * 28 * 8, image.getWidth());
        assertTrue(image.getHeight() > 28 * 8);
    }

    @Test
    void badBlockSizesExitTwo(@TempDir Path tmp) {
        CliRunner.Result r = CliRunner.run("mask", "--out", tmp.resolve("m.png").toString(), "--block-sizes", "3");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--block-sizes must be two sizes >= 1, got [3]"), r.err());
    }
}
