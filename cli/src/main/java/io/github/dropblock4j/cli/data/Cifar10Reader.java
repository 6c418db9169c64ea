package io.github.dropblock4j.cli.data;

import io.github.dropblock4j.cli.input.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the binary version of CIFAR-10: files of 3073-byte records, each a label byte in [0, 9]
 * followed by a 32 x 32 image as three 1024-byte planes, red, green then blue (so already in (C, H,
 * W) order). The training set is {@code data_batch_1.bin} to {@code data_batch_5.bin}, the test set
 * {@code test_batch.bin}, in a directory or its {@code cifar-10-batches-bin} subdirectory (as the
 * archive unpacks). A file may also be gzip-compressed (detected by its magic bytes).
 *
 * <p>Every defect of a file is a {@link BadInputException} naming the file and the value seen: a
 * missing or empty file, a length that is not a whole number of records, a label outside [0, 9], or
 * more than {@link IdxReader#MAX_DATA_BYTES} of data in all the files of a set together.
 */
public final class Cifar10Reader {

    /** The names of the classes, indexed by label. */
    public static final List<String> CLASS_NAMES =
            List.of(
                    "airplane",
                    "automobile",
                    "bird",
                    "cat",
                    "deer",
                    "dog",
                    "frog",
                    "horse",
                    "ship",
                    "truck");

    /** The training files, in the order their records are read. */
    public static final List<String> TRAIN_FILES =
            List.of(
                    "data_batch_1.bin",
                    "data_batch_2.bin",
                    "data_batch_3.bin",
                    "data_batch_4.bin",
                    "data_batch_5.bin");

    /** The test file. */
    public static final String TEST_FILE = "test_batch.bin";

    /** The subdirectory the official archive unpacks to. */
    public static final String SUBDIRECTORY = "cifar-10-batches-bin";

    /** Bytes per record: one label byte and 3 x 32 x 32 pixel bytes. */
    public static final int RECORD_BYTES = 3073;

    private static final int CHANNELS = 3;
    private static final int SIDE = 32;
    private static final int IMAGE_BYTES = RECORD_BYTES - 1;

    private Cifar10Reader() {}

    /**
     * Finds the directory that holds the batch files: {@code directory} itself or its {@code
     * cifar-10-batches-bin} subdirectory, whichever holds {@code data_batch_1.bin} or {@code
     * test_batch.bin}.
     *
     * @param directory where to look
     * @return the directory holding the files, or empty if neither does
     */
    public static Optional<Path> locate(Path directory) {
        for (Path candidate : List.of(directory, directory.resolve(SUBDIRECTORY))) {
            if (Files.exists(candidate.resolve(TRAIN_FILES.get(0)))
                    || Files.exists(candidate.resolve(TEST_FILE))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Reads the training set, {@code data_batch_1.bin} to {@code data_batch_5.bin}.
     *
     * @param batchDirectory the directory holding the files (see {@link #locate})
     * @return the 50000 training images of the official files
     * @throws BadInputException if a file is missing or malformed
     */
    public static LabeledImages readTrain(Path batchDirectory) {
        List<Path> files = new ArrayList<>();
        for (String file : TRAIN_FILES) {
            files.add(batchDirectory.resolve(file));
        }
        return read(files, "CIFAR-10 train");
    }

    /**
     * Reads the test set, {@code test_batch.bin}.
     *
     * @param batchDirectory the directory holding the file (see {@link #locate})
     * @return the 10000 test images of the official file
     * @throws BadInputException if the file is missing or malformed
     */
    public static LabeledImages readTest(Path batchDirectory) {
        return read(List.of(batchDirectory.resolve(TEST_FILE)), "CIFAR-10 test");
    }

    /**
     * Reads CIFAR-10 binary files, their records one after another.
     *
     * @param files the files, at least one
     * @param name what the set is, e.g. "CIFAR-10 train"
     * @return the images (three channels of 32 x 32) with their labels
     * @throws BadInputException if a file is missing or malformed
     * @throws IllegalArgumentException if {@code files} is empty
     */
    public static LabeledImages read(List<Path> files, String name) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("files must name at least one file, got none");
        }
        List<byte[]> contents = new ArrayList<>();
        long totalBytes = 0;
        for (Path file : files) {
            try (DataFileInput in = DataFileInput.open("CIFAR-10 file", file)) {
                // The limit holds for all the files together: they end up in one array.
                byte[] bytes = in.readToEnd(IdxReader.MAX_DATA_BYTES - totalBytes);
                checkRecords(in, bytes);
                contents.add(bytes);
                totalBytes += bytes.length;
            }
        }
        int count = (int) (totalBytes / RECORD_BYTES);
        byte[] pixels = new byte[count * IMAGE_BYTES];
        byte[] labels = new byte[count];
        int image = 0;
        for (byte[] bytes : contents) {
            for (int offset = 0; offset < bytes.length; offset += RECORD_BYTES) {
                labels[image] = bytes[offset];
                System.arraycopy(bytes, offset + 1, pixels, image * IMAGE_BYTES, IMAGE_BYTES);
                image++;
            }
        }
        return new LabeledImages(name, CHANNELS, SIDE, SIDE, pixels, labels, CLASS_NAMES);
    }

    private static void checkRecords(DataFileInput in, byte[] bytes) {
        if (bytes.length == 0) {
            throw in.error("empty, expected records of " + RECORD_BYTES + " bytes");
        }
        if (bytes.length % RECORD_BYTES != 0) {
            throw in.error(
                    "length "
                            + bytes.length
                            + " bytes is not a multiple of the "
                            + RECORD_BYTES
                            + "-byte record (1 label byte and 3 x 32 x 32 pixel bytes)");
        }
        for (int offset = 0; offset < bytes.length; offset += RECORD_BYTES) {
            int label = bytes[offset] & 0xff;
            if (label >= CLASS_NAMES.size()) {
                throw in.error(
                        "label "
                                + label
                                + " of record "
                                + offset / RECORD_BYTES
                                + " (byte "
                                + offset
                                + ") is out of range [0, "
                                + CLASS_NAMES.size()
                                + ")");
            }
        }
    }
}
