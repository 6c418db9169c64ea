package io.github.dropblock4j.cli.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * An immutable set of labelled images: {@code size()} images of {@code channels x height x width}
 * unsigned-byte pixels (0 to 255, channel planes in row-major order, as in (N, C, H, W)), each with
 * a label in {@code [0, numClasses())}, and the names of the classes. Made by {@link IdxReader},
 * {@link Cifar10Reader} and {@link DataSource}; each framework's trainer turns it into its own
 * batches. Thread safe.
 */
public final class LabeledImages {

    private final String name;
    private final int channels;
    private final int height;
    private final int width;
    private final byte[] pixels;
    private final byte[] labels;
    private final List<String> classNames;

    /**
     * Wraps arrays that the caller hands over and never touches again; labels must already lie in
     * {@code [0, classNames.size())}.
     *
     * @param name what the set is, e.g. "Fashion-MNIST train"
     * @param channels channels per image, at least 1
     * @param height image height, at least 1
     * @param width image width, at least 1
     * @param pixels {@code labels.length * channels * height * width} pixels in (N, C, H, W) order
     * @param labels one unsigned label per image, at least one image
     * @param classNames the names of the classes, 1 to 256
     * @throws IllegalArgumentException if the sizes do not agree
     */
    public LabeledImages(
            String name,
            int channels,
            int height,
            int width,
            byte[] pixels,
            byte[] labels,
            List<String> classNames) {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(
                    "channels, height and width must be >= 1, got "
                            + channels
                            + ", "
                            + height
                            + ", "
                            + width);
        }
        if (labels.length < 1) {
            throw new IllegalArgumentException("labels must hold at least one image, got 0");
        }
        long expected = (long) labels.length * channels * height * width;
        if (pixels.length != expected) {
            throw new IllegalArgumentException(
                    "pixels must hold labels.length * channels * height * width = "
                            + expected
                            + " values, got "
                            + pixels.length);
        }
        checkClassNames(classNames);
        this.name = Objects.requireNonNull(name, "name");
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
    }

    /**
     * Checks a list of class names: 1 to 256 of them, as labels are unsigned bytes.
     *
     * @param classNames the names
     * @throws IllegalArgumentException if there are none or more than 256
     */
    static void checkClassNames(List<String> classNames) {
        if (classNames.isEmpty() || classNames.size() > 256) {
            throw new IllegalArgumentException(
                    "classNames must hold 1 to 256 names, got " + classNames.size());
        }
    }

    /**
     * Returns what the set is.
     *
     * @return the name, e.g. "Fashion-MNIST train"
     */
    public String name() {
        return name;
    }

    /**
     * Returns the number of images.
     *
     * @return N
     */
    public int size() {
        return labels.length;
    }

    /**
     * Returns the number of channels of an image.
     *
     * @return C: 1 for Fashion-MNIST, 3 for CIFAR-10
     */
    public int channels() {
        return channels;
    }

    /**
     * Returns the height of an image.
     *
     * @return H
     */
    public int height() {
        return height;
    }

    /**
     * Returns the width of an image.
     *
     * @return W
     */
    public int width() {
        return width;
    }

    /**
     * Returns the number of classes.
     *
     * @return the number of class names
     */
    public int numClasses() {
        return classNames.size();
    }

    /**
     * Returns the names of the classes, indexed by label.
     *
     * @return an unmodifiable list
     */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * Returns one image's label.
     *
     * @param index the image, in {@code [0, size())}
     * @return its label, in {@code [0, numClasses())}
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public int label(int index) {
        return labels[index] & 0xff;
    }

    /**
     * Returns one pixel.
     *
     * @param index the image, in {@code [0, size())}
     * @param channel the channel, in {@code [0, channels())}
     * @param row the row, in {@code [0, height())}
     * @param column the column, in {@code [0, width())}
     * @return the pixel, 0 to 255
     * @throws IndexOutOfBoundsException if an index is out of range
     */
    public int pixel(int index, int channel, int row, int column) {
        Objects.checkIndex(index, labels.length);
        Objects.checkIndex(channel, channels);
        Objects.checkIndex(row, height);
        Objects.checkIndex(column, width);
        return pixels[((index * channels + channel) * height + row) * width + column] & 0xff;
    }

    /**
     * Returns a copy of the pixels in (N, C, H, W) order, 0 to 255 as unsigned bytes.
     *
     * @return a new array of {@code size() * channels() * height() * width()} bytes
     */
    public byte[] pixels() {
        return pixels.clone();
    }

    /**
     * Returns a copy of the labels.
     *
     * @return a new array of {@code size()} labels
     */
    public int[] labels() {
        int[] copy = new int[labels.length];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = labels[i] & 0xff;
        }
        return copy;
    }

    /**
     * Counts the images of each class.
     *
     * @return a new array of {@code numClasses()} counts
     */
    public int[] classCounts() {
        int[] counts = new int[classNames.size()];
        for (byte label : labels) {
            counts[label & 0xff]++;
        }
        return counts;
    }

    /**
     * Returns the mean of each channel over all images, pixels scaled to [0, 1].
     *
     * @return a new array of {@code channels()} means
     */
    public float[] channelMeans() {
        long[][] sums = channelSums();
        double count = (double) labels.length * height * width;
        float[] means = new float[channels];
        for (int c = 0; c < channels; c++) {
            means[c] = (float) (sums[0][c] / count / 255.0);
        }
        return means;
    }

    /**
     * Returns the standard deviation of each channel over all images (population, not sample),
     * pixels scaled to [0, 1].
     *
     * @return a new array of {@code channels()} standard deviations
     */
    public float[] channelStds() {
        long[][] sums = channelSums();
        double count = (double) labels.length * height * width;
        float[] stds = new float[channels];
        for (int c = 0; c < channels; c++) {
            double mean = sums[0][c] / count;
            double variance = Math.max(0, sums[1][c] / count - mean * mean);
            stds[c] = (float) (Math.sqrt(variance) / 255.0);
        }
        return stds;
    }

    /** Sums of the pixels and of their squares per channel, exact in long arithmetic. */
    private long[][] channelSums() {
        long[][] sums = new long[2][channels];
        int plane = height * width;
        for (int start = 0; start < pixels.length; start += plane) {
            int channel = (start / plane) % channels;
            long sum = 0;
            long squares = 0;
            for (int i = start; i < start + plane; i++) {
                int value = pixels[i] & 0xff;
                sum += value;
                squares += value * value;
            }
            sums[0][channel] += sum;
            sums[1][channel] += squares;
        }
        return sums;
    }

    /**
     * Returns the first {@code limit} images, or this set if it has no more than {@code limit}.
     *
     * @param limit how many images to keep, at least 1
     * @return the first {@code min(limit, size())} images
     * @throws IllegalArgumentException if {@code limit} is below 1
     */
    public LabeledImages subset(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        if (limit >= labels.length) {
            return this;
        }
        int imageBytes = channels * height * width;
        return new LabeledImages(
                name + " (first " + limit + ")",
                channels,
                height,
                width,
                Arrays.copyOf(pixels, limit * imageBytes),
                Arrays.copyOf(labels, limit),
                classNames);
    }

    /**
     * Returns {@code perClass} images of every class, chosen at random with a fixed seed by {@link
     * StratifiedSubset}, in their original order.
     *
     * @param perClass images per class, at least 1 and at most the smallest class's count
     * @param seed the seed of the choice
     * @return the subset, {@code perClass * numClasses()} images
     * @throws IllegalArgumentException if {@code perClass} is below 1 or a class has fewer images
     */
    public LabeledImages stratifiedSubset(int perClass, long seed) {
        int[] indices = StratifiedSubset.indices(labels(), numClasses(), perClass, seed);
        return select(indices, name + " (" + perClass + " per class, seed " + seed + ")");
    }

    /**
     * Splits off {@code perClass} images of every class (chosen as {@link #stratifiedSubset} does)
     * from the rest, e.g. a validation set out of a training set. The two parts are disjoint and
     * together hold every image once.
     *
     * @param perClass images per class to split off, at least 1 and fewer than the smallest class's
     *     count
     * @param seed the seed of the choice
     * @return the images split off and the rest, both in their original order
     * @throws IllegalArgumentException if {@code perClass} is below 1 or leaves a class empty
     */
    public Split stratifiedSplit(int perClass, long seed) {
        int smallest = Arrays.stream(classCounts()).min().orElse(0);
        if (perClass >= smallest) {
            throw new IllegalArgumentException(
                    "perClass must leave every class an image (smallest class: "
                            + smallest
                            + " images), got "
                            + perClass);
        }
        int[] chosen = StratifiedSubset.indices(labels(), numClasses(), perClass, seed);
        boolean[] taken = new boolean[labels.length];
        for (int i : chosen) {
            taken[i] = true;
        }
        int[] rest = new int[labels.length - chosen.length];
        int next = 0;
        for (int i = 0; i < labels.length; i++) {
            if (!taken[i]) {
                rest[next++] = i;
            }
        }
        return new Split(
                select(chosen, name + " (" + perClass + " per class split off, seed " + seed + ")"),
                select(rest, name + " (rest after " + perClass + " per class, seed " + seed + ")"));
    }

    /**
     * The two disjoint parts of a {@link #stratifiedSplit}.
     *
     * @param chosen the images split off, the same number of every class
     * @param rest every other image
     */
    public record Split(LabeledImages chosen, LabeledImages rest) {}

    /**
     * Returns a randomly augmented copy, the standard augmentation of CIFAR-style training: each
     * image is shifted by up to {@code padding} pixels in each direction (a random crop of the
     * image padded with zeros on every side) and mirrored left to right with probability 1/2.
     * Labels and order are kept, so an epoch sees each image once in a new variant.
     *
     * @param padding the largest shift in pixels, in {@code [0, min(height, width))}
     * @param random the random stream; the same stream state gives the same copy
     * @return the augmented copy
     * @throws IllegalArgumentException if {@code padding} is out of range
     */
    public LabeledImages augmented(int padding, Random random) {
        if (padding < 0 || padding >= Math.min(height, width)) {
            throw new IllegalArgumentException(
                    "padding must be in [0, "
                            + Math.min(height, width)
                            + ") for "
                            + height
                            + " x "
                            + width
                            + " images, got "
                            + padding);
        }
        int plane = height * width;
        byte[] out = new byte[pixels.length];
        for (int n = 0; n < labels.length; n++) {
            int dy = random.nextInt(2 * padding + 1) - padding;
            int dx = random.nextInt(2 * padding + 1) - padding;
            boolean flip = random.nextBoolean();
            for (int c = 0; c < channels; c++) {
                int base = (n * channels + c) * plane;
                for (int y = 0; y < height; y++) {
                    int sy = y + dy;
                    if (sy < 0 || sy >= height) {
                        continue; // the zero padding
                    }
                    for (int x = 0; x < width; x++) {
                        int sx = (flip ? width - 1 - x : x) + dx;
                        if (sx >= 0 && sx < width) {
                            out[base + y * width + x] = pixels[base + sy * width + sx];
                        }
                    }
                }
            }
        }
        return new LabeledImages(name, channels, height, width, out, labels, classNames);
    }

    private LabeledImages select(int[] indices, String subsetName) {
        int imageBytes = channels * height * width;
        byte[] subsetPixels = new byte[indices.length * imageBytes];
        byte[] subsetLabels = new byte[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(
                    pixels, indices[i] * imageBytes, subsetPixels, i * imageBytes, imageBytes);
            subsetLabels[i] = labels[indices[i]];
        }
        return new LabeledImages(
                subsetName, channels, height, width, subsetPixels, subsetLabels, classNames);
    }

    /**
     * Two sets are equal when their names, shapes, pixels, labels and class names are.
     *
     * @param other the other object
     * @return whether they are equal
     */
    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof LabeledImages)) {
            return false;
        }
        LabeledImages that = (LabeledImages) other;
        return name.equals(that.name)
                && channels == that.channels
                && height == that.height
                && width == that.width
                && Arrays.equals(labels, that.labels)
                && Arrays.equals(pixels, that.pixels)
                && classNames.equals(that.classNames);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(
                name,
                channels,
                height,
                width,
                Arrays.hashCode(labels),
                Arrays.hashCode(pixels),
                classNames);
    }

    /**
     * Describes the set, e.g. "Fashion-MNIST train: 60000 images of 1 x 28 x 28, 10 classes".
     *
     * @return the description
     */
    @Override
    public String toString() {
        return name
                + ": "
                + labels.length
                + " images of "
                + channels
                + " x "
                + height
                + " x "
                + width
                + ", "
                + classNames.size()
                + " classes";
    }
}
