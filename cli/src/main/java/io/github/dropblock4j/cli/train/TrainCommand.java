package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.input.SeedOption;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Trains a ResNet with DropBlock placed and scheduled as in the paper (arXiv 1810.12890), or with
 * another regularizer for comparison, and writes a run directory: {@code metrics.csv}, {@code
 * summary.json}, the model and {@code curves.png}. Ctrl-C or SIGTERM stops it after the current
 * batch with a checkpoint, and {@code --resume} continues it; it then exits with {@link
 * StopRequest#EXIT_CODE}.
 */
@Command(
        name = "train",
        header = "Train a ResNet with DropBlock (the paper's recipe) and write a run directory.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Train a ResNet with DropBlock and write metrics.csv, summary.json, the model and"
                    + " curves.png to a run directory. By default it follows the paper's recipe:"
                    + " DropBlock after every batch norm of the last two stages and on their"
                    + " shortcuts, its drop probability ramped linearly from 0 to --drop-prob over"
                    + " the run.",
            "With no options it trains ResNet-20 on the embedded Fashion-MNIST subset, a few"
                    + " minutes on 2 cores.",
            "Ctrl-C stops it after the current batch and writes a checkpoint; --resume continues"
                    + " from there."
        })
public final class TrainCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Mixin private TrainingOptions training;

    @Mixin private EpochOptions epochOptions;

    @Mixin private RegularizerOptions regularization;

    @Mixin private SeedOption seed;

    @Option(
            names = "--regularizer",
            converter = RegularizerOption.class,
            completionCandidates = RegularizerOption.class,
            description = "${COMPLETION-CANDIDATES} (default: dropblock).")
    private Regularizer regularizer = Regularizer.DROPBLOCK;

    @Option(
            names = "--framework",
            paramLabel = "NAME",
            converter = FrameworkConverter.class,
            completionCandidates = FrameworkConverter.class,
            description =
                    "djl (Deep Java Library on PyTorch) or dl4j (Deeplearning4j on ND4J), with the"
                            + " same recipe: SGD with Nesterov momentum 0.9 (default: djl).")
    private Framework framework = Framework.DJL;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Run directory to create (default: runs/<model>-<time>).")
    private Path out;

    @Option(
            names = "--resume",
            paramLabel = "DIR",
            description =
                    "Continue the interrupted run in DIR with its own settings; other"
                            + " options are ignored.")
    private Path resume;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        try (StopRequest stop = StopRequest.onSignal()) {
            RunDirectory dir;
            TrainConfig config;
            ImageTrainingData trainingData;
            if (resume != null) {
                dir = RunDirectory.resume(resume);
                config = dir.readConfig();
                trainingData = ImageTrainingData.read(config);
                console.println("resuming " + dir.partial());
            } else {
                config = config();
                // Read the data before creating anything, so bad data leaves nothing behind.
                trainingData = ImageTrainingData.read(config);
                dir =
                        RunDirectory.create(
                                out != null ? out : RunDirectory.defaultOut(config.model()),
                                config);
            }
            console.println("training " + config);
            console.println("data: " + trainingData);
            try {
                RunConsole runConsole = RunConsole.of(console, spec.commandLine().getErr(), stop);
                new TrainingRun(config, trainingData, runConsole).run(dir);
                return 0;
            } catch (RunStoppedException e) {
                console.println(
                        e.getMessage()
                                + "; continue with: ./dropblock4j train --resume "
                                + dir.out());
                return StopRequest.EXIT_CODE;
            } finally {
                console.flush();
            }
        }
    }

    /**
     * Builds the config of the parsed options.
     *
     * @return the config
     * @throws picocli.CommandLine.ParameterException naming the option if one is bad
     */
    TrainConfig config() {
        return training.toConfig(
                b ->
                        regularization
                                .applyTo(epochOptions.applyTo(b))
                                .optSeed(seed.seed())
                                .optRegularizer(regularizer)
                                .optFramework(framework));
    }

    /** Parses the {@link Regularizer} spellings and lists them for the help. */
    static final class RegularizerOption implements ITypeConverter<Regularizer>, Iterable<String> {

        /** {@inheritDoc} */
        @Override
        public Regularizer convert(String value) {
            return Arrays.stream(Regularizer.values())
                    .filter(r -> r.optionValue().equals(value))
                    .findFirst()
                    .orElseThrow(
                            () ->
                                    new TypeConversionException(
                                            "must be one of "
                                                    + String.join(", ", this)
                                                    + ", got "
                                                    + value));
        }

        /** {@inheritDoc} */
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Regularizer.values()).map(Regularizer::optionValue).iterator();
        }
    }
}
