package io.github.dropblock4j.cli.data;

import io.github.dropblock4j.cli.input.BadInputException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A training set and a test set, loaded from what the command line's {@code --data} names (see
 * {@link #resolve}): the embedded Fashion-MNIST subset, Debian's Fashion-MNIST, or a directory of
 * IDX or CIFAR-10 binary files. Immutable.
 */
public final class DataSource {

    /** The {@code --data} value of the embedded subset, also the default. */
    public static final String EMBEDDED = "embedded";

    /** The {@code --data} value of the full Fashion-MNIST of Debian's dataset-fashion-mnist. */
    public static final String FASHION_MNIST = "fashion-mnist";

    /** Where Debian's package dataset-fashion-mnist installs the four gzipped IDX files. */
    public static final Path FASHION_MNIST_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");

    /** Fashion-MNIST's class names, indexed by label. */
    public static final List<String> FASHION_MNIST_CLASSES =
            List.of(
                    "T-shirt/top",
                    "Trouser",
                    "Pullover",
                    "Dress",
                    "Coat",
                    "Sandal",
                    "Shirt",
                    "Sneaker",
                    "Bag",
                    "Ankle boot");

    /** MNIST's class names, the digits, for an IDX directory that is not Fashion-MNIST. */
    public static final List<String> DIGIT_CLASSES =
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    /** Training images per class in the embedded subset. */
    public static final int EMBEDDED_TRAIN_PER_CLASS = 600;

    /** Test images per class in the embedded subset. */
    public static final int EMBEDDED_TEST_PER_CLASS = 100;

    /**
     * The seed of {@link StratifiedSubset} that chose the embedded subset (the paper's arXiv id).
     */
    public static final long EMBEDDED_SEED = 181012890L;

    /** The class-path folder of the embedded subset's gzipped IDX files and their licence. */
    public static final String EMBEDDED_RESOURCES = "/fashion-mnist/";

    private final String description;
    private final LabeledImages train;
    private final LabeledImages test;

    private DataSource(String description, LabeledImages train, LabeledImages test) {
        this.description = description;
        this.train = train;
        this.test = test;
    }

    /**
     * Loads what a {@code --data} value names: absent or {@code embedded}, the embedded
     * Fashion-MNIST subset ({@link #embedded}); {@code fashion-mnist}, Debian's full Fashion-MNIST
     * ({@link #fashionMnist()}); anything else, a directory ({@link #directory}).
     *
     * @param data the option's value, or {@code null} when it was not given
     * @return the training and test sets
     * @throws BadInputException if the data cannot be found or read
     */
    public static DataSource resolve(String data) {
        if (data == null || data.equals(EMBEDDED)) {
            return embedded();
        }
        if (data.equals(FASHION_MNIST)) {
            return fashionMnist();
        }
        if (data.isBlank()) {
            throw new BadInputException(
                    "--data is empty; give embedded, fashion-mnist or a directory");
        }
        Path directory;
        try {
            directory = Path.of(data);
        } catch (InvalidPathException e) {
            throw new BadInputException(
                    "--data " + data + ": not a valid path (" + e.getMessage() + ")", e);
        }
        return directory(directory);
    }

    /**
     * Loads the Fashion-MNIST subset shipped in the application: {@value #EMBEDDED_TRAIN_PER_CLASS}
     * training and {@value #EMBEDDED_TEST_PER_CLASS} test images per class, chosen from the
     * official sets by {@link StratifiedSubset} with seed {@value #EMBEDDED_SEED}.
     *
     * @return 6000 training and 1000 test images of 28 x 28
     * @throws IllegalStateException if the resources are missing from the class path
     */
    public static DataSource embedded() {
        return new DataSource(
                "Fashion-MNIST embedded subset ("
                        + EMBEDDED_TRAIN_PER_CLASS
                        + " training and "
                        + EMBEDDED_TEST_PER_CLASS
                        + " test images per class)",
                embeddedSet(IdxReader.TRAIN_IMAGES, IdxReader.TRAIN_LABELS, "train"),
                embeddedSet(IdxReader.TEST_IMAGES, IdxReader.TEST_LABELS, "test"));
    }

    private static LabeledImages embeddedSet(String imagesBase, String labelsBase, String split) {
        try (DataFileInput images = openResource("images file", imagesBase);
                DataFileInput labels = openResource("labels file", labelsBase)) {
            return IdxReader.read(
                    images, labels, "Fashion-MNIST embedded " + split, FASHION_MNIST_CLASSES);
        }
    }

    private static DataFileInput openResource(String kind, String base) {
        String resource = EMBEDDED_RESOURCES + base + ".gz";
        InputStream stream = DataSource.class.getResourceAsStream(resource);
        if (stream == null) {
            throw new IllegalStateException(
                    "embedded resource " + resource + " is missing from the class path");
        }
        return DataFileInput.open(kind + " embedded:" + resource, stream);
    }

    /**
     * Loads the full Fashion-MNIST installed by Debian's package dataset-fashion-mnist in {@link
     * #FASHION_MNIST_DIRECTORY}.
     *
     * @return 60000 training and 10000 test images of 28 x 28
     * @throws BadInputException if the package is not installed (the message says how to install
     *     it) or a file is malformed
     */
    public static DataSource fashionMnist() {
        return fashionMnist(FASHION_MNIST_DIRECTORY);
    }

    static DataSource fashionMnist(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new BadInputException(
                    "--data "
                            + FASHION_MNIST
                            + ": "
                            + directory
                            + " is missing; install it with: "
                            + "sudo apt-get install dataset-fashion-mnist");
        }
        return readIdx(directory, "Fashion-MNIST", FASHION_MNIST_CLASSES);
    }

    /**
     * Loads a directory of IDX files ({@code train-images-idx3-ubyte}, {@code
     * train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte},
     * each plain or with {@code .gz}; the plain one when both exist) or of CIFAR-10 binary files
     * (see {@link Cifar10Reader}), whichever it holds. IDX labels must lie in [0, 9]; their class
     * names are Fashion-MNIST's when the directory's path contains "fashion" (in any case), the
     * digits otherwise.
     *
     * @param directory the directory
     * @return the training and test sets
     * @throws BadInputException if the directory is missing, holds neither format or both, lacks
     *     one of the format's files, or a file is malformed
     */
    public static DataSource directory(Path directory) {
        if (!Files.exists(directory)) {
            throw new BadInputException("--data " + directory + ": no such directory");
        }
        if (!Files.isDirectory(directory)) {
            throw new BadInputException("--data " + directory + ": not a directory");
        }
        boolean idx =
                List.of(
                                IdxReader.TRAIN_IMAGES,
                                IdxReader.TRAIN_LABELS,
                                IdxReader.TEST_IMAGES,
                                IdxReader.TEST_LABELS)
                        .stream()
                        .anyMatch(
                                base ->
                                        Files.exists(directory.resolve(base))
                                                || Files.exists(directory.resolve(base + ".gz")));
        Optional<Path> cifar = Cifar10Reader.locate(directory);
        if (idx && cifar.isPresent()) {
            throw new BadInputException(
                    "--data "
                            + directory
                            + ": holds both IDX and CIFAR-10 files; give a directory with one");
        }
        if (idx) {
            boolean fashion =
                    directory
                            .toAbsolutePath()
                            .toString()
                            .toLowerCase(Locale.ROOT)
                            .contains("fashion");
            return readIdx(
                    directory,
                    fashion ? "Fashion-MNIST" : "IDX",
                    fashion ? FASHION_MNIST_CLASSES : DIGIT_CLASSES);
        }
        if (cifar.isPresent()) {
            Path batches = cifar.get();
            return new DataSource(
                    "CIFAR-10 in " + batches,
                    Cifar10Reader.readTrain(batches),
                    Cifar10Reader.readTest(batches));
        }
        throw new BadInputException(
                "--data "
                        + directory
                        + ": holds neither IDX files ("
                        + IdxReader.TRAIN_IMAGES
                        + "[.gz] and the three others) nor CIFAR-10 binary files ("
                        + Cifar10Reader.TRAIN_FILES.get(0)
                        + " ... "
                        + Cifar10Reader.TEST_FILE
                        + ", there or in "
                        + Cifar10Reader.SUBDIRECTORY
                        + "/)");
    }

    private static DataSource readIdx(Path directory, String name, List<String> classNames) {
        return new DataSource(
                name + " in " + directory,
                readIdxSet(
                        directory,
                        IdxReader.TRAIN_IMAGES,
                        IdxReader.TRAIN_LABELS,
                        name + " train",
                        classNames),
                readIdxSet(
                        directory,
                        IdxReader.TEST_IMAGES,
                        IdxReader.TEST_LABELS,
                        name + " test",
                        classNames));
    }

    private static LabeledImages readIdxSet(
            Path directory, String images, String labels, String name, List<String> classNames) {
        return IdxReader.read(
                idxFile(directory, images), idxFile(directory, labels), name, classNames);
    }

    private static Path idxFile(Path directory, String base) {
        Path plain = directory.resolve(base);
        if (Files.exists(plain)) {
            return plain;
        }
        Path gzipped = directory.resolve(base + ".gz");
        if (Files.exists(gzipped)) {
            return gzipped;
        }
        throw new BadInputException(
                "--data "
                        + directory
                        + ": IDX directory lacks "
                        + base
                        + " (neither it nor "
                        + base
                        + ".gz exists)");
    }

    /**
     * Describes where the data came from.
     *
     * @return e.g. "Fashion-MNIST in /usr/share/datasets/fashion-mnist"
     */
    public String description() {
        return description;
    }

    /**
     * Returns the training set.
     *
     * @return the training images
     */
    public LabeledImages train() {
        return train;
    }

    /**
     * Returns the test set.
     *
     * @return the test images
     */
    public LabeledImages test() {
        return test;
    }

    /**
     * Describes the source and both sets.
     *
     * @return e.g. "Fashion-MNIST in /d: train 60000 images of 1 x 28 x 28, ..."
     */
    @Override
    public String toString() {
        return description + " [" + train + "; " + test + "]";
    }
}
