package io.github.dropblock4j.cli.data;

import static io.github.dropblock4j.cli.data.SyntheticData.cifarRecords;
import static io.github.dropblock4j.cli.data.SyntheticData.concat;
import static io.github.dropblock4j.cli.data.SyntheticData.gzip;
import static io.github.dropblock4j.cli.data.SyntheticData.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.dropblock4j.cli.input.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10ReaderTest {

    private static final int PLANE = 32 * 32;

    @TempDir Path dir;

    @Test
    void readsLabelsAndRgbPlanesOfEveryFileInOrder() {
        byte[] first = cifarRecords(2, 3, 1);
        byte[] second = cifarRecords(1, 9, 2);
        Path a = write(dir, "a.bin", first);
        Path b = write(dir, "b.bin", second);

        LabeledImages read = Cifar10Reader.read(List.of(a, b), "two files");

        assertEquals(3, read.size());
        assertEquals(3, read.channels());
        assertEquals(32, read.height());
        assertEquals(32, read.width());
        assertEquals(Cifar10Reader.CLASS_NAMES, read.classNames());
        assertArrayEquals(new int[] {3, 4, 9}, read.labels());
        int r = Cifar10Reader.RECORD_BYTES;
        // Record 1's green plane, row 5, column 7; record 2's blue plane, row 31, column 31.
        assertEquals(first[r + 1 + PLANE + 5 * 32 + 7] & 0xff, read.pixel(1, 1, 5, 7));
        assertEquals(second[1 + 2 * PLANE + 31 * 32 + 31] & 0xff, read.pixel(2, 2, 31, 31));
    }

    @Test
    void readsGzippedFile() {
        byte[] records = cifarRecords(2, 0, 3);
        Path plain = write(dir, "plain.bin", records);
        Path gzipped = write(dir, "gzipped.bin", gzip(records));

        assertArrayEquals(
                Cifar10Reader.read(List.of(plain), "x").pixels(),
                Cifar10Reader.read(List.of(gzipped), "x").pixels());
    }

    @Test
    void locatesFilesInTheDirectoryOrTheArchiveSubdirectory() throws IOException {
        assertEquals(Optional.empty(), Cifar10Reader.locate(dir));
        Path sub = Files.createDirectory(dir.resolve(Cifar10Reader.SUBDIRECTORY));
        write(sub, Cifar10Reader.TEST_FILE, cifarRecords(1, 0, 1));
        assertEquals(Optional.of(sub), Cifar10Reader.locate(dir));
        write(dir, Cifar10Reader.TRAIN_FILES.get(0), cifarRecords(1, 0, 1));
        assertEquals(Optional.of(dir), Cifar10Reader.locate(dir));
    }

    @Test
    void readsTheFiveTrainingBatchesAndTheTestBatch() {
        for (int i = 0; i < Cifar10Reader.TRAIN_FILES.size(); i++) {
            write(dir, Cifar10Reader.TRAIN_FILES.get(i), cifarRecords(2, 2 * i, i));
        }
        write(dir, Cifar10Reader.TEST_FILE, cifarRecords(3, 0, 9));

        LabeledImages train = Cifar10Reader.readTrain(dir);
        LabeledImages test = Cifar10Reader.readTest(dir);

        assertEquals("CIFAR-10 train: 10 images of 3 x 32 x 32, 10 classes", train.toString());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, train.labels());
        assertEquals("CIFAR-10 test: 3 images of 3 x 32 x 32, 10 classes", test.toString());
    }

    @Test
    void missingTrainingBatchIsNamed() {
        for (String file : Cifar10Reader.TRAIN_FILES) {
            if (!file.equals("data_batch_3.bin")) {
                write(dir, file, cifarRecords(1, 0, 1));
            }
        }
        BadInputException e =
                assertThrows(BadInputException.class, () -> Cifar10Reader.readTrain(dir));
        assertEquals(
                "CIFAR-10 file " + dir.resolve("data_batch_3.bin") + ": no such file",
                e.getMessage());
    }

    @Test
    void emptyFileIsRejected() {
        Path empty = write(dir, "empty.bin", new byte[0]);
        BadInputException e =
                assertThrows(
                        BadInputException.class, () -> Cifar10Reader.read(List.of(empty), "x"));
        assertEquals(
                "CIFAR-10 file " + empty + ": empty, expected records of 3073 bytes",
                e.getMessage());
    }

    @Test
    void partialRecordIsRejected() {
        Path file = write(dir, "partial.bin", concat(cifarRecords(1, 0, 1), new byte[1]));
        BadInputException e =
                assertThrows(BadInputException.class, () -> Cifar10Reader.read(List.of(file), "x"));
        assertEquals(
                "CIFAR-10 file "
                        + file
                        + ": length 3074 bytes is not a multiple of the 3073-byte record (1 label"
                        + " byte and 3 x 32 x 32 pixel bytes)",
                e.getMessage());
    }

    @Test
    void labelOutOfRangeIsReportedWithItsRecord() {
        byte[] records = cifarRecords(2, 0, 1);
        records[Cifar10Reader.RECORD_BYTES] = 10;
        Path file = write(dir, "bad-label.bin", records);
        BadInputException e =
                assertThrows(BadInputException.class, () -> Cifar10Reader.read(List.of(file), "x"));
        assertEquals(
                "CIFAR-10 file "
                        + file
                        + ": label 10 of record 1 (byte 3073) is out of range [0, 10)",
                e.getMessage());
    }

    @Test
    void noFilesIsAnArgumentError() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> Cifar10Reader.read(List.of(), "x"));
        assertEquals("files must name at least one file, got none", e.getMessage());
    }
}
