package io.github.dropblock4j.cli.data;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Makes the embedded Fashion-MNIST subset from the full data set: a stratified choice of training
 * and test images per class with a fixed seed, written as the four gzipped IDX files that {@link
 * DataSource#embedded()} reads. Hidden: the maintainers run it once, as docs/embedded-data.md says,
 * and commit its output under cli/src/main/resources/fashion-mnist.
 */
@Command(
        name = "make-embedded",
        hidden = true,
        mixinStandardHelpOptions = true,
        description = "Write the embedded Fashion-MNIST subset (gzipped IDX) to a directory.")
public final class MakeEmbeddedCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(
            names = "--from",
            description =
                    "Directory of the full Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    private Path from = DataSource.FASHION_MNIST_DIRECTORY;

    @Option(names = "--out", required = true, description = "Directory to write the four files to.")
    private Path out;

    @Option(
            names = "--train-per-class",
            description = "Training images per class (default: ${DEFAULT-VALUE}).")
    private int trainPerClass = DataSource.EMBEDDED_TRAIN_PER_CLASS;

    @Option(
            names = "--test-per-class",
            description = "Test images per class (default: ${DEFAULT-VALUE}).")
    private int testPerClass = DataSource.EMBEDDED_TEST_PER_CLASS;

    @Option(names = "--seed", description = "Seed of the choice (default: ${DEFAULT-VALUE}).")
    private long seed = DataSource.EMBEDDED_SEED;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws IOException {
        if (trainPerClass < 1) {
            throw new ParameterException(
                    spec.commandLine(), "--train-per-class must be >= 1, got " + trainPerClass);
        }
        if (testPerClass < 1) {
            throw new ParameterException(
                    spec.commandLine(), "--test-per-class must be >= 1, got " + testPerClass);
        }
        DataSource full = DataSource.directory(from);
        LabeledImages train = full.train().stratifiedSubset(trainPerClass, seed);
        LabeledImages test = full.test().stratifiedSubset(testPerClass, seed);
        Files.createDirectories(out);
        IdxWriter.write(
                train,
                out.resolve(IdxReader.TRAIN_IMAGES + ".gz"),
                out.resolve(IdxReader.TRAIN_LABELS + ".gz"));
        IdxWriter.write(
                test,
                out.resolve(IdxReader.TEST_IMAGES + ".gz"),
                out.resolve(IdxReader.TEST_LABELS + ".gz"));
        PrintWriter printer = spec.commandLine().getOut();
        printer.println("from " + full.description());
        printer.println("wrote " + train + " and " + test + " to " + out);
        printer.flush();
        return 0;
    }
}
