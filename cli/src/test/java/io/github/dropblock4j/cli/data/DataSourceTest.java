package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.dropblock4j.cli.input.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataSourceTest {

    @TempDir Path dir;

    private static int[] filled(int classes, int value) {
        int[] counts = new int[classes];
        Arrays.fill(counts, value);
        return counts;
    }

    private static void assumeFashionMnistInstalled() {
        assumeTrue(
                Files.isDirectory(DataSource.FASHION_MNIST_DIRECTORY),
                "apt-get install dataset-fashion-mnist to run this test");
    }

    @Test
    void embeddedSubsetHas600TrainingAnd100TestImagesPerClass() {
        DataSource embedded = DataSource.embedded();

        assertEquals(
                "Fashion-MNIST embedded train: 6000 images of 1 x 28 x 28, 10 classes",
                embedded.train().toString());
        assertEquals(
                "Fashion-MNIST embedded test: 1000 images of 1 x 28 x 28, 10 classes",
                embedded.test().toString());
        assertArrayEquals(filled(10, 600), embedded.train().classCounts());
        assertArrayEquals(filled(10, 100), embedded.test().classCounts());
        assertEquals(DataSource.FASHION_MNIST_CLASSES, embedded.train().classNames());
    }

    @Test
    void absentAndEmbeddedValuesGiveTheEmbeddedSubset() {
        assertEquals(DataSource.embedded().train(), DataSource.resolve(null).train());
        assertEquals(DataSource.embedded().test(), DataSource.resolve(DataSource.EMBEDDED).test());
    }

    @Test
    void embeddedLicenceShipsWithTheData() throws IOException {
        try (InputStream licence =
                DataSource.class.getResourceAsStream(DataSource.EMBEDDED_RESOURCES + "LICENSE")) {
            String text = new String(licence.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains("Copyright (c) 2017 Zalando SE"), text);
        }
    }

    @Test
    void fashionMnistHasTheOfficialSizesAndContainsTheEmbeddedSubset() {
        assumeFashionMnistInstalled();
        DataSource full = DataSource.resolve(DataSource.FASHION_MNIST);
        DataSource embedded = DataSource.embedded();

        assertEquals(60000, full.train().size());
        assertEquals(10000, full.test().size());
        assertArrayEquals(filled(10, 6000), full.train().classCounts());
        assertArrayEquals(filled(10, 1000), full.test().classCounts());
        // The embedded files are exactly what make-embedded chooses with the recorded seed.
        LabeledImages train =
                full.train()
                        .stratifiedSubset(
                                DataSource.EMBEDDED_TRAIN_PER_CLASS, DataSource.EMBEDDED_SEED);
        LabeledImages test =
                full.test()
                        .stratifiedSubset(
                                DataSource.EMBEDDED_TEST_PER_CLASS, DataSource.EMBEDDED_SEED);
        assertArrayEquals(train.labels(), embedded.train().labels());
        assertArrayEquals(train.pixels(), embedded.train().pixels());
        assertArrayEquals(test.labels(), embedded.test().labels());
        assertArrayEquals(test.pixels(), embedded.test().pixels());
    }

    @Test
    void missingFashionMnistSaysWhichPackageToInstall() {
        Path absent = dir.resolve("fashion-mnist");
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.fashionMnist(absent));
        assertEquals(
                "--data fashion-mnist: "
                        + absent
                        + " is missing; install it with: sudo apt-get install"
                        + " dataset-fashion-mnist",
                e.getMessage());
    }

    @Test
    void missingDirectoryIsNamed() {
        Path absent = dir.resolve("nowhere");
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.resolve(absent.toString()));
        assertEquals("--data " + absent + ": no such directory", e.getMessage());
    }

    @Test
    void fileIsNotADirectory() {
        Path file = SyntheticData.write(dir, "file", new byte[1]);
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.directory(file));
        assertEquals("--data " + file + ": not a directory", e.getMessage());
    }

    @Test
    void emptyValueIsRejected() {
        BadInputException e = assertThrows(BadInputException.class, () -> DataSource.resolve(" "));
        assertEquals(
                "--data is empty; give embedded, fashion-mnist or a directory", e.getMessage());
    }

    @Test
    void directoryWithNeitherFormatSaysWhatItLooksFor() {
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.directory(dir));
        assertEquals(
                "--data "
                        + dir
                        + ": holds neither IDX files (train-images-idx3-ubyte[.gz] and the three"
                        + " others) nor CIFAR-10 binary files (data_batch_1.bin ..."
                        + " test_batch.bin, there or in cifar-10-batches-bin/)",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void idxDirectoryIsRead(boolean gzipped) {
        SyntheticData.writeIdxDirectory(dir, 20, 10, 5, gzipped);

        DataSource source = DataSource.directory(dir);

        assertEquals("IDX in " + dir, source.description());
        assertEquals("IDX train: 20 images of 1 x 5 x 5, 10 classes", source.train().toString());
        assertEquals("IDX test: 10 images of 1 x 5 x 5, 10 classes", source.test().toString());
        assertEquals(DataSource.DIGIT_CLASSES, source.train().classNames());
    }

    @Test
    void idxDirectoryNamedFashionHasFashionClassNames() throws IOException {
        Path fashion = Files.createDirectory(dir.resolve("My-Fashion-Copy"));
        SyntheticData.writeIdxDirectory(fashion, 10, 10, 2, true);

        DataSource source = DataSource.directory(fashion);

        assertEquals(DataSource.FASHION_MNIST_CLASSES, source.test().classNames());
        assertEquals("Fashion-MNIST in " + fashion, source.description());
    }

    @Test
    void idxDirectoryLackingAFileNamesIt() throws IOException {
        SyntheticData.writeIdxDirectory(dir, 10, 10, 2, true);
        Files.delete(dir.resolve(IdxReader.TEST_LABELS + ".gz"));
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.directory(dir));
        assertEquals(
                "--data "
                        + dir
                        + ": IDX directory lacks t10k-labels-idx1-ubyte (neither it nor"
                        + " t10k-labels-idx1-ubyte.gz exists)",
                e.getMessage());
    }

    @Test
    void badFileInADirectoryIsNamed() {
        SyntheticData.writeIdxDirectory(dir, 10, 10, 2, false);
        SyntheticData.write(dir, IdxReader.TRAIN_LABELS, SyntheticData.idxLabels(11, 10));
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.directory(dir));
        assertEquals(
                "images file "
                        + dir.resolve(IdxReader.TRAIN_IMAGES)
                        + " has 10 images but labels file "
                        + dir.resolve(IdxReader.TRAIN_LABELS)
                        + " has 11 labels",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cifarDirectoryIsRead(boolean inArchiveSubdirectory) throws IOException {
        Path batches =
                inArchiveSubdirectory
                        ? Files.createDirectory(dir.resolve(Cifar10Reader.SUBDIRECTORY))
                        : dir;
        for (String file : Cifar10Reader.TRAIN_FILES) {
            SyntheticData.write(batches, file, SyntheticData.cifarRecords(2, 0, 1));
        }
        SyntheticData.write(batches, Cifar10Reader.TEST_FILE, SyntheticData.cifarRecords(1, 0, 2));

        DataSource source = DataSource.resolve(dir.toString());

        assertEquals("CIFAR-10 in " + batches, source.description());
        assertEquals(10, source.train().size());
        assertEquals(1, source.test().size());
        assertEquals(Cifar10Reader.CLASS_NAMES, source.test().classNames());
    }

    @Test
    void directoryWithBothFormatsIsAmbiguous() {
        SyntheticData.writeIdxDirectory(dir, 10, 10, 2, false);
        SyntheticData.write(dir, Cifar10Reader.TEST_FILE, SyntheticData.cifarRecords(1, 0, 2));
        BadInputException e =
                assertThrows(BadInputException.class, () -> DataSource.directory(dir));
        assertEquals(
                "--data " + dir + ": holds both IDX and CIFAR-10 files; give a directory with one",
                e.getMessage());
    }

    @Test
    void toStringDescribesSourceAndBothSets() {
        SyntheticData.writeIdxDirectory(dir, 10, 10, 2, false);
        assertEquals(
                "IDX in "
                        + dir
                        + " [IDX train: 10 images of 1 x 2 x 2, 10 classes; IDX test: 10 images"
                        + " of 1 x 2 x 2, 10 classes]",
                DataSource.directory(dir).toString());
    }
}
