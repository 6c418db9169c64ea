package io.github.dropblock4j.cli.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/** Small IDX and CIFAR-10 files written byte by byte, independently of {@link IdxWriter}. */
public final class SyntheticData {

    private SyntheticData() {}

    /**
     * An IDX header.
     *
     * @param magic the magic number
     * @param dims the dimensions, written as unsigned 32-bit integers
     * @return the header's bytes
     */
    public static byte[] idxHeader(int magic, int... dims) {
        ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);
        header.putInt(magic);
        for (int d : dims) {
            header.putInt(d);
        }
        return header.array();
    }

    /**
     * Random pixels, deterministic in the seed.
     *
     * @param count how many bytes
     * @param seed the seed
     * @return the bytes
     */
    public static byte[] randomBytes(int count, long seed) {
        byte[] bytes = new byte[count];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    /**
     * Labels {@code i % classes}.
     *
     * @param count how many
     * @param classes the number of classes
     * @return the labels as unsigned bytes
     */
    public static byte[] cyclicLabels(int count, int classes) {
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) (i % classes);
        }
        return labels;
    }

    /**
     * A complete IDX images file of random pixels.
     *
     * @param count images
     * @param height image height
     * @param width image width
     * @param seed seed of the pixels
     * @return the file's bytes
     */
    public static byte[] idxImages(int count, int height, int width, long seed) {
        return concat(
                idxHeader(IdxReader.IMAGES_MAGIC, count, height, width),
                randomBytes(count * height * width, seed));
    }

    /**
     * A complete IDX labels file of labels {@code i % classes}.
     *
     * @param count labels
     * @param classes the number of classes
     * @return the file's bytes
     */
    public static byte[] idxLabels(int count, int classes) {
        return concat(idxHeader(IdxReader.LABELS_MAGIC, count), cyclicLabels(count, classes));
    }

    /**
     * CIFAR-10 records with labels {@code (first + i) % 10} and random pixels.
     *
     * @param records how many records
     * @param first the first record's label
     * @param seed seed of the pixels
     * @return the file's bytes
     */
    public static byte[] cifarRecords(int records, int first, long seed) {
        byte[] bytes = randomBytes(records * Cifar10Reader.RECORD_BYTES, seed);
        for (int r = 0; r < records; r++) {
            bytes[r * Cifar10Reader.RECORD_BYTES] = (byte) ((first + r) % 10);
        }
        return bytes;
    }

    /**
     * Gzip-compresses bytes.
     *
     * @param bytes the data
     * @return the gzip stream
     */
    public static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Joins byte arrays.
     *
     * @param parts the arrays
     * @return their concatenation
     */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /**
     * Writes a file.
     *
     * @param directory the directory
     * @param name the file name
     * @param bytes the content
     * @return the file
     */
    public static Path write(Path directory, String name, byte[] bytes) {
        try {
            return Files.write(directory.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the four IDX files of a 10-class set, gzipped or not.
     *
     * @param directory where
     * @param trainCount training images
     * @param testCount test images
     * @param side image height and width
     * @param gzip whether to gzip (and add .gz to the names)
     */
    public static void writeIdxDirectory(
            Path directory, int trainCount, int testCount, int side, boolean gzip) {
        String suffix = gzip ? ".gz" : "";
        writeMaybeGzip(
                directory,
                IdxReader.TRAIN_IMAGES + suffix,
                idxImages(trainCount, side, side, 1),
                gzip);
        writeMaybeGzip(directory, IdxReader.TRAIN_LABELS + suffix, idxLabels(trainCount, 10), gzip);
        writeMaybeGzip(
                directory,
                IdxReader.TEST_IMAGES + suffix,
                idxImages(testCount, side, side, 2),
                gzip);
        writeMaybeGzip(directory, IdxReader.TEST_LABELS + suffix, idxLabels(testCount, 10), gzip);
    }

    private static void writeMaybeGzip(Path directory, String name, byte[] bytes, boolean gzip) {
        write(directory, name, gzip ? gzip(bytes) : bytes);
    }
}
