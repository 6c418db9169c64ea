package io.github.dropblock4j.cli.data;

import static io.github.dropblock4j.cli.data.SyntheticData.concat;
import static io.github.dropblock4j.cli.data.SyntheticData.gzip;
import static io.github.dropblock4j.cli.data.SyntheticData.idxHeader;
import static io.github.dropblock4j.cli.data.SyntheticData.idxImages;
import static io.github.dropblock4j.cli.data.SyntheticData.idxLabels;
import static io.github.dropblock4j.cli.data.SyntheticData.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.input.BadInputException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {

    private static final List<String> TEN = DataSource.DIGIT_CLASSES;

    @TempDir Path dir;

    private Path labels(int count) {
        return write(dir, "labels", idxLabels(count, 10));
    }

    private BadInputException readImagesExpectingError(byte[] imagesBytes, int labelCount) {
        Path images = write(dir, "images", imagesBytes);
        Path labels = labels(labelCount);
        return assertThrows(
                BadInputException.class, () -> IdxReader.read(images, labels, "x", TEN));
    }

    private String imagesFile() {
        return "images file " + dir.resolve("images") + ": ";
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsPixelsAndLabelsBack(boolean gzipped) {
        byte[] imagesBytes = idxImages(7, 5, 3, 42);
        byte[] labelsBytes = idxLabels(7, 10);
        Path images = write(dir, "images", gzipped ? gzip(imagesBytes) : imagesBytes);
        Path labels = write(dir, "labels", gzipped ? gzip(labelsBytes) : labelsBytes);

        LabeledImages read = IdxReader.read(images, labels, "synthetic", TEN);

        assertEquals(7, read.size());
        assertEquals(1, read.channels());
        assertEquals(5, read.height());
        assertEquals(3, read.width());
        assertEquals(TEN, read.classNames());
        assertArrayEquals(Arrays.copyOfRange(imagesBytes, 16, imagesBytes.length), read.pixels());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, read.labels());
        assertEquals(imagesBytes[16 + 5 * 3 + 2 * 3 + 1] & 0xff, read.pixel(1, 0, 2, 1));
    }

    @Test
    void detectsGzipByMagicBytesNotByFileName() {
        byte[] imagesBytes = idxImages(2, 4, 4, 1);
        Path gzipWithoutSuffix = write(dir, "images", gzip(imagesBytes));
        Path plainWithSuffix = write(dir, "labels.gz", idxLabels(2, 10));

        LabeledImages read = IdxReader.read(gzipWithoutSuffix, plainWithSuffix, "x", TEN);

        assertArrayEquals(Arrays.copyOfRange(imagesBytes, 16, imagesBytes.length), read.pixels());
    }

    @Test
    void missingFileIsNamed() {
        Path absent = dir.resolve("absent");
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> IdxReader.read(absent, labels(1), "x", TEN));
        assertEquals("images file " + absent + ": no such file", e.getMessage());
    }

    @Test
    void directoryIsNotAFile() {
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> IdxReader.read(dir, labels(1), "x", TEN));
        assertEquals("images file " + dir + ": not a regular file", e.getMessage());
    }

    @Test
    void labelsFileAsImagesFileIsAWrongMagicNumber() {
        BadInputException e = readImagesExpectingError(idxLabels(3, 10), 3);
        assertEquals(
                imagesFile()
                        + "wrong magic number 0x00000801, expected 0x00000803: 1 dimensions, an"
                        + " images file has 3 (image count, image height, image width)",
                e.getMessage());
    }

    @Test
    void wrongDataTypeIsAWrongMagicNumber() {
        BadInputException e =
                readImagesExpectingError(concat(idxHeader(0x00000d03, 1, 1, 1), new byte[4]), 1);
        assertEquals(
                imagesFile()
                        + "wrong magic number 0x00000d03, expected 0x00000803: data type 0x0d,"
                        + " only 0x08 (unsigned byte) is read",
                e.getMessage());
    }

    @Test
    void foreignFileIsNotAnIdxFile() {
        BadInputException e = readImagesExpectingError("%PDF-1.4 not an IDX file".getBytes(), 1);
        assertEquals(
                imagesFile()
                        + "wrong magic number 0x25504446, expected 0x00000803: not an IDX file,"
                        + " whose magic number starts with two zero bytes",
                e.getMessage());
    }

    @Test
    void zeroDimensionIsRejected() {
        BadInputException e =
                readImagesExpectingError(idxHeader(IdxReader.IMAGES_MAGIC, 1, 0, 28), 1);
        assertEquals(imagesFile() + "image height is 0, must be at least 1", e.getMessage());
    }

    @Test
    void oversizedHeaderIsRejectedBeforeReading() {
        BadInputException e =
                readImagesExpectingError(
                        idxHeader(IdxReader.IMAGES_MAGIC, Integer.MAX_VALUE, 28, 28), 1);
        assertEquals(
                imagesFile()
                        + "the header declares 2147483647 x 28 x 28 = 1683627179248 bytes of data,"
                        + " more than the limit of 536870912",
                e.getMessage());
    }

    @Test
    void dimensionsAreUnsigned() {
        BadInputException e =
                readImagesExpectingError(idxHeader(IdxReader.IMAGES_MAGIC, 1, -1, 1), 1);
        assertTrue(
                e.getMessage().contains("declares 1 x 4294967295 x 1 = 4294967295 bytes"),
                e.getMessage());
    }

    @Test
    void truncatedHeaderIsReported() {
        byte[] header = idxHeader(IdxReader.IMAGES_MAGIC, 1, 2);
        BadInputException e = readImagesExpectingError(header, 1);
        assertEquals(
                imagesFile() + "truncated header: the data ends after 12 bytes, the header has 16",
                e.getMessage());
    }

    @Test
    void truncatedPlainDataIsReportedBeforeAllocating() {
        byte[] full = idxImages(3, 4, 4, 1);
        BadInputException e = readImagesExpectingError(Arrays.copyOf(full, full.length - 8), 3);
        assertEquals(
                imagesFile()
                        + "truncated: 3 images of 4 x 4 need 48 bytes from byte 16, the file has"
                        + " 40",
                e.getMessage());
    }

    @Test
    void truncatedGzipDataIsReported() {
        byte[] full = idxImages(3, 4, 4, 1);
        BadInputException e =
                readImagesExpectingError(gzip(Arrays.copyOf(full, full.length - 8)), 3);
        assertEquals(
                imagesFile()
                        + "truncated: the data ends at byte 56, 40 bytes into the 48 that 3 images"
                        + " of 4 x 4 need",
                e.getMessage());
    }

    @Test
    void cutGzipStreamIsCorrupt() {
        byte[] compressed = gzip(idxImages(30, 8, 8, 1));
        BadInputException e =
                readImagesExpectingError(Arrays.copyOf(compressed, compressed.length / 2), 30);
        assertEquals(
                imagesFile() + "corrupt gzip data (Unexpected end of ZLIB input stream)",
                e.getMessage());
    }

    @Test
    void gzipChecksumMismatchIsCorrupt() {
        byte[] compressed = gzip(idxImages(3, 4, 4, 1));
        // The trailer's CRC-32 is the 8th to 5th last bytes.
        compressed[compressed.length - 8] ^= 1;
        BadInputException e = readImagesExpectingError(compressed, 3);
        assertEquals(imagesFile() + "corrupt gzip data (Corrupt GZIP trailer)", e.getMessage());
    }

    @Test
    void trailingPlainDataIsRejected() {
        BadInputException e =
                readImagesExpectingError(concat(idxImages(3, 4, 4, 1), new byte[5]), 3);
        assertEquals(
                imagesFile() + "trailing data: 5 bytes after the 64 bytes the header declares",
                e.getMessage());
    }

    @Test
    void trailingGzipDataIsRejected() {
        BadInputException e =
                readImagesExpectingError(gzip(concat(idxImages(3, 4, 4, 1), new byte[5])), 3);
        assertEquals(
                imagesFile() + "trailing data after the 64 bytes the header declares",
                e.getMessage());
    }

    @Test
    void imageAndLabelCountsMustAgree() {
        Path images = write(dir, "images", idxImages(3, 4, 4, 1));
        Path labels = write(dir, "labels", gzip(idxLabels(4, 10)));
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> IdxReader.read(images, labels, "x", TEN));
        assertEquals(
                "images file "
                        + images
                        + " has 3 images but labels file "
                        + labels
                        + " has 4 labels",
                e.getMessage());
    }

    @Test
    void labelOutOfRangeIsReportedWithItsIndex() {
        Path images = write(dir, "images", idxImages(3, 4, 4, 1));
        Path labels =
                write(
                        dir,
                        "labels",
                        concat(idxHeader(IdxReader.LABELS_MAGIC, 3), new byte[] {9, 0, 10}));
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> IdxReader.read(images, labels, "x", TEN));
        assertEquals(
                "labels file " + labels + ": label 10 at index 2 is out of range [0, 10)",
                e.getMessage());
    }

    @Test
    void labelsFileWithImagesMagicIsAWrongMagicNumber() {
        Path images = write(dir, "images", idxImages(3, 4, 4, 1));
        Path labels = write(dir, "labels", idxImages(3, 4, 4, 1));
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> IdxReader.read(images, labels, "x", TEN));
        assertEquals(
                "labels file "
                        + labels
                        + ": wrong magic number 0x00000803, expected 0x00000801: 3 dimensions, a"
                        + " labels file has 1 (label count)",
                e.getMessage());
    }

    @Test
    void noClassNamesIsAnArgumentError() {
        Path images = write(dir, "images", idxImages(1, 1, 1, 1));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> IdxReader.read(images, labels(1), "x", List.of()));
        assertEquals("classNames must hold 1 to 256 names, got 0", e.getMessage());
    }
}
