package io.github.dropblock4j.cli.data;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a one-channel {@link LabeledImages} as a pair of IDX files that {@link IdxReader} reads
 * back: images (magic {@code 0x00000803}, count, height, width) and labels (magic {@code
 * 0x00000801}, count). A file whose name ends in {@code .gz} is gzip-compressed; the gzip header
 * carries no time stamp, so writing the same images again on the same JVM gives the same bytes.
 */
public final class IdxWriter {

    private IdxWriter() {}

    /**
     * Writes the images file and the labels file, replacing files that exist.
     *
     * @param images the images, one channel
     * @param imagesFile where to write the images
     * @param labelsFile where to write the labels
     * @throws IOException if a file cannot be written
     * @throws IllegalArgumentException if the images have more than one channel
     */
    public static void write(LabeledImages images, Path imagesFile, Path labelsFile)
            throws IOException {
        if (images.channels() != 1) {
            throw new IllegalArgumentException(
                    "images must have 1 channel for IDX, got " + images.channels());
        }
        try (DataOutputStream out = open(imagesFile)) {
            out.writeInt(IdxReader.IMAGES_MAGIC);
            out.writeInt(images.size());
            out.writeInt(images.height());
            out.writeInt(images.width());
            out.write(images.pixels());
        }
        try (DataOutputStream out = open(labelsFile)) {
            out.writeInt(IdxReader.LABELS_MAGIC);
            out.writeInt(images.size());
            for (int label : images.labels()) {
                out.writeByte(label);
            }
        }
    }

    private static DataOutputStream open(Path file) throws IOException {
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file));
        if (file.getFileName().toString().endsWith(".gz")) {
            out = new GZIPOutputStream(out);
        }
        return new DataOutputStream(out);
    }
}
