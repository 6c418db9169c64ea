package io.github.dropblock4j.cli.data;

import io.github.dropblock4j.cli.input.BadInputException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a labelled image set from a pair of IDX files, the format of MNIST and Fashion-MNIST: an
 * images file (magic {@code 0x00000803}: unsigned bytes, dimensions count, height and width) and a
 * labels file (magic {@code 0x00000801}: unsigned bytes, dimension count), each a big-endian header
 * followed by the data, gzip-compressed or not.
 *
 * <p>Every defect of a file is a {@link BadInputException} naming the file and the value seen: a
 * missing file, a wrong magic number (also for a wrong data type or number of dimensions), a
 * dimension of 0, more data declared than {@link #MAX_DATA_BYTES}, data shorter or longer than the
 * header declares, a label outside {@code [0, classes)}, or image and label counts that differ.
 * Sizes from a header are checked against the limit, and for a plain file against its length,
 * before anything is allocated; gzip data is read into a buffer that grows only as data arrives.
 */
public final class IdxReader {

    /** Magic number of an images file: unsigned bytes, three dimensions (count, height, width). */
    public static final int IMAGES_MAGIC = 0x00000803;

    /** Magic number of a labels file: unsigned bytes, one dimension (count). */
    public static final int LABELS_MAGIC = 0x00000801;

    /**
     * The most bytes of data one file may declare: 512 MiB, ten times Fashion-MNIST's training
     * images (47 MB), and small enough that the float32 copy of the images fits a JVM's memory.
     */
    public static final long MAX_DATA_BYTES = 512L << 20;

    /** Base name of the training images file; {@code .gz} may follow. */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";

    /** Base name of the training labels file; {@code .gz} may follow. */
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";

    /** Base name of the test images file; {@code .gz} may follow. */
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";

    /** Base name of the test labels file; {@code .gz} may follow. */
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    private static final int UNSIGNED_BYTE = 0x08;
    private static final List<String> IMAGE_DIMENSIONS =
            List.of("image count", "image height", "image width");
    private static final List<String> LABEL_DIMENSIONS = List.of("label count");

    private IdxReader() {}

    /**
     * Reads an images file and its labels file.
     *
     * @param imagesFile the IDX images file, gzip-compressed or not
     * @param labelsFile the IDX labels file, gzip-compressed or not
     * @param name what the set is, for messages and {@code toString}, e.g. "Fashion-MNIST train"
     * @param classNames the names of the classes; labels must lie in {@code [0, classNames.size())}
     * @return the images (one channel) with their labels
     * @throws BadInputException if a file is missing or malformed, or the two disagree
     * @throws IllegalArgumentException if {@code classNames} is empty or longer than 256
     */
    public static LabeledImages read(
            Path imagesFile, Path labelsFile, String name, List<String> classNames) {
        try (DataFileInput images = DataFileInput.open("images file", imagesFile);
                DataFileInput labels = DataFileInput.open("labels file", labelsFile)) {
            return read(images, labels, name, classNames);
        }
    }

    /**
     * Reads an images input and its labels input; closing them is the caller's job.
     *
     * @param images the opened images input
     * @param labels the opened labels input
     * @param name what the set is
     * @param classNames the names of the classes
     * @return the images with their labels
     * @throws BadInputException if an input is malformed, or the two disagree
     */
    static LabeledImages read(
            DataFileInput images, DataFileInput labels, String name, List<String> classNames) {
        // Before any reading: the class names are the caller's, not the file's, mistake.
        LabeledImages.checkClassNames(classNames);
        // Both headers first: a count mismatch is reported before any data is read.
        long[] imageDims = readHeader(images, IMAGES_MAGIC, "an images file", IMAGE_DIMENSIONS);
        long[] labelDims = readHeader(labels, LABELS_MAGIC, "a labels file", LABEL_DIMENSIONS);
        if (imageDims[0] != labelDims[0]) {
            throw new BadInputException(
                    images.description()
                            + " has "
                            + imageDims[0]
                            + " images but "
                            + labels.description()
                            + " has "
                            + labelDims[0]
                            + " labels");
        }
        int count = (int) imageDims[0];
        int height = (int) imageDims[1];
        int width = (int) imageDims[2];
        byte[] pixels =
                readData(
                        images,
                        (long) count * height * width,
                        count + " images of " + height + " x " + width);
        byte[] labelBytes = readData(labels, count, count + " labels");
        int classes = classNames.size();
        for (int i = 0; i < count; i++) {
            int label = labelBytes[i] & 0xff;
            if (label >= classes) {
                throw labels.error(
                        "label "
                                + label
                                + " at index "
                                + i
                                + " is out of range [0, "
                                + classes
                                + ")");
            }
        }
        return new LabeledImages(name, 1, height, width, pixels, labelBytes, classNames);
    }

    /** Reads and checks the magic number and dimensions; returns the dimensions. */
    private static long[] readHeader(
            DataFileInput in, int expectedMagic, String kind, List<String> dimensionNames) {
        int headerBytes = 4 + 4 * dimensionNames.size();
        int magic = in.readHeaderInt(headerBytes);
        if (magic != expectedMagic) {
            String detail;
            if ((magic >>> 16) != 0) {
                detail = "not an IDX file, whose magic number starts with two zero bytes";
            } else if (((magic >>> 8) & 0xff) != UNSIGNED_BYTE) {
                detail =
                        String.format(
                                "data type 0x%02x, only 0x08 (unsigned byte) is read",
                                (magic >>> 8) & 0xff);
            } else {
                detail =
                        (magic & 0xff)
                                + " dimensions, "
                                + kind
                                + " has "
                                + dimensionNames.size()
                                + " ("
                                + String.join(", ", dimensionNames)
                                + ")";
            }
            throw in.error(
                    String.format(
                            "wrong magic number 0x%08x, expected 0x%08x: %s",
                            magic, expectedMagic, detail));
        }
        long[] dims = new long[dimensionNames.size()];
        for (int i = 0; i < dims.length; i++) {
            // IDX dimensions are unsigned 32-bit integers.
            dims[i] = Integer.toUnsignedLong(in.readHeaderInt(headerBytes));
            if (dims[i] == 0) {
                throw in.error(dimensionNames.get(i) + " is 0, must be at least 1");
            }
        }
        BigInteger bytes = BigInteger.ONE;
        for (long d : dims) {
            bytes = bytes.multiply(BigInteger.valueOf(d));
        }
        if (bytes.compareTo(BigInteger.valueOf(MAX_DATA_BYTES)) > 0) {
            StringBuilder shape = new StringBuilder();
            for (int i = 0; i < dims.length; i++) {
                shape.append(i == 0 ? "" : " x ").append(dims[i]);
            }
            throw in.error(
                    "the header declares "
                            + shape
                            + " = "
                            + bytes
                            + " bytes of data, more than the limit of "
                            + MAX_DATA_BYTES);
        }
        return dims;
    }

    /** Reads the data the header declared and checks that nothing follows it. */
    private static byte[] readData(DataFileInput in, long bytes, String what) {
        long headerBytes = in.position();
        byte[] data = in.readExactly(bytes, what);
        in.expectEnd("the " + (headerBytes + bytes) + " bytes the header declares");
        return data;
    }
}
