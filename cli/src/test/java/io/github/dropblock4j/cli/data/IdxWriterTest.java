package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxWriterTest {

    @TempDir Path dir;

    private static LabeledImages images() {
        return new LabeledImages(
                "written",
                1,
                3,
                2,
                SyntheticData.randomBytes(4 * 3 * 2, 8),
                new byte[] {1, 0, 2, 1},
                List.of("a", "b", "c"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".gz"})
    void readerReadsBackWhatTheWriterWrote(String suffix) throws IOException {
        Path imagesFile = dir.resolve("images" + suffix);
        Path labelsFile = dir.resolve("labels" + suffix);

        IdxWriter.write(images(), imagesFile, labelsFile);

        assertEquals(
                images(),
                IdxReader.read(imagesFile, labelsFile, "written", List.of("a", "b", "c")));
    }

    @Test
    void plainFilesAreTheIdxLayout() throws IOException {
        Path imagesFile = dir.resolve("images");
        Path labelsFile = dir.resolve("labels");

        IdxWriter.write(images(), imagesFile, labelsFile);

        assertArrayEquals(
                SyntheticData.concat(
                        SyntheticData.idxHeader(IdxReader.IMAGES_MAGIC, 4, 3, 2),
                        images().pixels()),
                Files.readAllBytes(imagesFile));
        assertArrayEquals(
                SyntheticData.concat(
                        SyntheticData.idxHeader(IdxReader.LABELS_MAGIC, 4),
                        new byte[] {1, 0, 2, 1}),
                Files.readAllBytes(labelsFile));
    }

    @Test
    void gzipOutputIsTheSameEveryTime() throws IOException {
        IdxWriter.write(images(), dir.resolve("a.gz"), dir.resolve("al.gz"));
        IdxWriter.write(images(), dir.resolve("b.gz"), dir.resolve("bl.gz"));
        assertArrayEquals(
                Files.readAllBytes(dir.resolve("a.gz")), Files.readAllBytes(dir.resolve("b.gz")));
    }

    @Test
    void colourImagesAreRejected() {
        LabeledImages colour =
                new LabeledImages("c", 3, 1, 1, new byte[3], new byte[1], List.of("a"));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> IdxWriter.write(colour, dir.resolve("i"), dir.resolve("l")));
        assertEquals("images must have 1 channel for IDX, got 3", e.getMessage());
    }
}
