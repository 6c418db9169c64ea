package io.github.dropblock4j.cli;

import io.github.dropblock4j.cli.data.DataSource;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains a ResNet with DropBlock placed and scheduled as in the paper (arXiv 1810.12890), or
 * with another regularizer for comparison, and writes a run directory: {@code metrics.csv},
 * {@code summary.json}, the model and {@code curves.png}.
 */
@Command(
        name = "train",
        header = "Train a ResNet with DropBlock (the paper's recipe) and write a run directory.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Train a ResNet with DropBlock (the paper's recipe by default: DropBlock after every batch norm",
            "of the last two stages and on their shortcuts, drop probability ramped linearly from 0 to",
            "--drop-prob over the run) and write metrics.csv, summary.json, the model and curves.png.",
            "With no options: ResNet-20 on the embedded Fashion-MNIST subset, a few minutes on 2 cores."
        })
final class TrainCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Mixin SharedTrainingOptions shared = new SharedTrainingOptions();

    @Option(names = "--weight-decay", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    float weightDecay = 5e-4f;

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    int seed = 1;

    @Option(names = "--block-size", description = "DropBlock block size (default: ${DEFAULT-VALUE}).")
    int blockSize = 7;

    @Option(names = "--schedule", converter = ScheduleConverter.class,
            description = "linear (0 to --drop-prob over the run, the paper's) or constant (default: linear).")
    TrainConfig.Schedule schedule = TrainConfig.Schedule.LINEAR;

    @Option(names = "--stages", split = ",", paramLabel = "N[,N...]",
            description = "Stages (1-based) that get the regularizer (default: the last two).")
    int[] stages;

    @Option(names = "--no-shortcut", description = "Residual branches only, not the shortcuts.")
    boolean noShortcut;

    @Option(names = "--regularizer", converter = RegularizerConverter.class,
            description = "dropblock, dropout, spatial-dropout or none (default: dropblock).")
    Regularizer regularizer = Regularizer.DROPBLOCK;

    @Option(names = "--framework", paramLabel = "NAME",
            description = "djl (Deep Java Library on PyTorch) or dl4j (Deeplearning4j on ND4J) (default: ${DEFAULT-VALUE}).")
    String framework = "djl";

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory to create (default: runs/<model>-<time>).")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue the interrupted run in DIR, with its own settings (other options are ignored).")
    Path resume;

    @Override
    public Integer call() throws IOException {
        if (resume != null) {
            RunDirectory dir = RunDirectory.resume(resume);
            TrainConfig config = dir.readConfig();
            spec.commandLine().getOut().println("resuming " + dir.partial());
            run(config, load(config), dir);
        } else {
            TrainConfig config = toConfig().validate();
            // Read the data before creating anything, so bad data leaves nothing behind.
            ImageTrainingData trainingData = load(config);
            Path target = out != null ? out
                    : Path.of("runs", config.model + "-" + LocalDateTime.now().format(
                            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            run(config, trainingData, RunDirectory.create(target, config));
        }
        return 0;
    }

    RunSummary run(TrainConfig config, ImageTrainingData trainingData, RunDirectory dir) throws IOException {
        var out = spec.commandLine().getOut();
        out.println("training " + config);
        out.println("data: " + trainingData);
        boolean live = System.console() != null;
        RunSummary summary = "dl4j".equals(config.framework)
                ? new Dl4jTrainingRun(config, trainingData, out, spec.commandLine().getErr(), live).run(dir)
                : new TrainingRun(config, trainingData, out, spec.commandLine().getErr(), live).run(dir);
        out.printf(java.util.Locale.ROOT, "final test accuracy %.4f, test loss %.4f, %.0f s, %.0f img/s%nresults in %s%n",
                summary.finalTestAccuracy(), summary.finalTestLoss(), summary.wallSeconds(),
                summary.samplesPerSecond(), dir.out());
        out.flush();
        return summary;
    }

    static ImageTrainingData load(TrainConfig config) {
        DataSource source = DataSource.resolve(config.data);
        return new ImageTrainingData(source.train(), source.test(), config);
    }

    TrainConfig toConfig() {
        TrainConfig c = shared.applyTo(new TrainConfig());
        c.framework = framework;
        c.weightDecay = weightDecay;
        c.seed = seed;
        c.blockSize = blockSize;
        c.schedule = schedule;
        c.stages = stages;
        c.shortcut = !noShortcut;
        c.regularizer = regularizer;
        return c;
    }

    /** Parses {@code linear} and {@code constant}. */
    static final class ScheduleConverter implements picocli.CommandLine.ITypeConverter<TrainConfig.Schedule> {
        @Override
        public TrainConfig.Schedule convert(String value) {
            for (TrainConfig.Schedule s : TrainConfig.Schedule.values()) {
                if (s.name().equalsIgnoreCase(value)) {
                    return s;
                }
            }
            throw new picocli.CommandLine.TypeConversionException(
                    "must be linear or constant, got " + value);
        }
    }

    /** Parses the {@link Regularizer} spellings. */
    static final class RegularizerConverter implements picocli.CommandLine.ITypeConverter<Regularizer> {
        @Override
        public Regularizer convert(String value) {
            try {
                return Regularizer.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "must be dropblock, dropout, spatial-dropout or none, got " + value);
            }
        }
    }
}
