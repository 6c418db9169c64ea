package io.github.dropblock4j.cli.spark;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.input.SeedOption;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.RegularizerOptions;
import io.github.dropblock4j.cli.train.RunConsole;
import io.github.dropblock4j.cli.train.RunStoppedException;
import io.github.dropblock4j.cli.train.StopRequest;
import io.github.dropblock4j.cli.train.TrainingOptions;
import io.github.dropblock4j.cli.train.TrainingRun;
import io.github.dropblock4j.spark.SparkJvmOptions;
import io.github.dropblock4j.spark.WorkerThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Trains the DL4J ResNet with DropBlock on Apache Spark by parameter averaging, on {@code local[2]}
 * by default or on any master, and writes a run directory like {@code train}'s: {@code config.json}
 * (the settings shared with {@code train}, the batch size per worker), {@code spark.json} ({@link
 * SparkSettings}), {@code metrics.csv}, {@code summary.json}, the model and {@code curves.png}, in
 * {@code <out>.partial} until all are written. The epochs are {@code train}'s loop ({@link
 * TrainingRun}) on a {@link SparkTrainer}, one averaging round per batch: after each epoch the
 * driver writes a checkpoint there, and a failed or killed job leaves only {@code <out>.partial},
 * which {@code --resume} continues from its last checkpoint. Ctrl-C or SIGTERM stops the job after
 * the current averaging round with a checkpoint and exits with {@link StopRequest#EXIT_CODE}.
 *
 * <p>Under {@code spark-submit} the master is the one Spark was given ({@code spark.master}). The
 * command checks that the JVM has the options Spark needs on Java 17 ({@link SparkJvmOptions}) and
 * stops with the missing ones named before it starts Spark.
 */
@Command(
        name = "spark-train",
        header = "Train the DL4J ResNet with DropBlock on Spark and write a run directory.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        defaultValueProvider = SparkTrainCommand.Defaults.class,
        description = {
            "Train the DL4J ResNet with DropBlock by parameter averaging on Apache Spark: on"
                    + " local[2] by default, on any master with --master, or on a cluster through"
                    + " spark-submit (README). Writes metrics.csv, summary.json, the model and"
                    + " curves.png to a run directory, as train does.",
            "The recipe is train's: DropBlock after every batch norm of the last two stages and on"
                    + " their shortcuts, keep_prob ramped linearly from 1 to 1 - --drop-prob over"
                    + " the true steps of training on every worker.",
            "After each epoch the driver writes a checkpoint; Ctrl-C or SIGTERM stops the job"
                    + " after the current averaging round with a checkpoint; --resume continues a"
                    + " stopped, failed or killed job from its last checkpoint."
        })
public final class SparkTrainCommand implements Callable<Integer> {

    static final String DEFAULT_MASTER = "local[2]";
    static final String SETTINGS = "spark.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    @Spec private CommandSpec spec;

    @Option(
            names = "--master",
            paramLabel = "URL",
            description =
                    "Spark master, e.g. local[4] or spark://host:7077 (default: the one"
                            + " spark-submit gives, else "
                            + DEFAULT_MASTER
                            + ").")
    private String master;

    @Option(
            names = "--workers",
            description =
                    "Workers that train side by side, one partition each (default: Spark's"
                            + " default parallelism, the cores of the master).")
    private Integer workers;

    @Option(
            names = "--averaging-frequency",
            paramLabel = "K",
            description =
                    "Minibatches each worker fits between parameter averagings"
                            + " (default: ${DEFAULT-VALUE}).")
    private int averagingFrequency = 5;

    @Mixin private TrainingOptions training;

    @Mixin private RegularizerOptions regularization;

    @Mixin private SeedOption seed;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Run directory to create (default: runs/spark-<model>-<time>).")
    private Path out;

    @Option(
            names = "--resume",
            paramLabel = "DIR",
            description =
                    "Continue the interrupted run in DIR from its last checkpoint, with its own"
                            + " settings and workers, on the master given now; other options are"
                            + " ignored.")
    private Path resume;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        RunDirectory resumed = resume != null ? RunDirectory.resume(resume) : null;
        TrainConfig config = resumed != null ? resumed.readConfig() : config();
        SparkSettings before = resumed != null ? readSettings(resumed) : null;
        SparkJvmOptions.requireOpen();
        // Read the data before creating anything, so bad data leaves nothing behind.
        ImageTrainingData data = ImageTrainingData.read(config);
        try (StopRequest stop = StopRequest.onSignalBeforeShutdown();
                JavaSparkContext sc = new JavaSparkContext(sparkConf())) {
            SparkSettings settings =
                    before != null
                            ? new SparkSettings(
                                    sc.master(), before.workers(), before.averagingFrequency())
                            : settings(sc);
            WorkerThreads threads = workerThreads(sc, settings);
            threads.apply();
            SparkTrainer trainer = new SparkTrainer(sc, config, settings, data);
            RunDirectory dir;
            if (resumed != null) {
                dir = resumed;
                console.println("resuming " + dir.partial());
            } else {
                dir =
                        RunDirectory.create(
                                out != null
                                        ? out
                                        : RunDirectory.defaultOut("spark-" + config.model()),
                                config);
            }
            trainer.writeSettingsTo(dir.partial().resolve(SETTINGS));
            console.println(
                    "training "
                            + config
                            + " on Spark "
                            + settings.master()
                            + ", "
                            + settings.workers()
                            + " workers, averaging every "
                            + settings.averagingFrequency()
                            + " minibatches; "
                            + threads);
            console.println("data: " + data);
            console.flush();
            ExecutorLossReport losses =
                    ExecutorLossReport.register(sc.sc(), spec.commandLine().getErr());
            try {
                RunConsole runConsole = RunConsole.of(console, spec.commandLine().getErr(), stop);
                new TrainingRun(config, data, runConsole, () -> trainer).run(dir);
                return 0;
            } catch (RunStoppedException e) {
                console.println(
                        e.getMessage()
                                + "; continue with: ./dropblock4j spark-train --resume "
                                + dir.out());
                return StopRequest.EXIT_CODE;
            } finally {
                losses.close();
                console.flush();
            }
        }
    }

    // The Spark settings a run was started with; the workers and rounds fix its steps.
    private static SparkSettings readSettings(RunDirectory dir) {
        Path file = dir.partial().resolve(SETTINGS);
        try {
            SparkSettings settings =
                    GSON.fromJson(
                            Files.readString(file, StandardCharsets.UTF_8), SparkSettings.class);
            if (settings == null) {
                throw new BadInputException("--resume: " + file + " is empty");
            }
            return settings;
        } catch (IOException | RuntimeException e) {
            throw new BadInputException("--resume: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Builds the settings shared with {@code train} from the parsed options.
     *
     * @return the settings
     * @throws ParameterException naming the option if one is bad
     */
    TrainConfig config() {
        try {
            SparkSettings.checkOptions(workers, averagingFrequency);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        return training.toConfig(
                b ->
                        regularization
                                .applyTo(b)
                                .optSeed(seed.seed())
                                .optRegularizer(Regularizer.DROPBLOCK)
                                .optFramework(Framework.DL4J));
    }

    private SparkConf sparkConf() {
        SparkConf conf = new SparkConf().setAppName("dropblock4j spark-train");
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(DEFAULT_MASTER);
        }
        if (conf.get("spark.master").startsWith("local")) {
            // Nobody watches a local run's web UI; it would take a port.
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        return conf;
    }

    private SparkSettings settings(JavaSparkContext sc) {
        return new SparkSettings(
                sc.master(),
                workers != null ? workers : sc.defaultParallelism(),
                averagingFrequency);
    }

    // Workers x native threads within the cores; too many workers side by side is a bad option.
    private static WorkerThreads workerThreads(JavaSparkContext sc, SparkSettings settings) {
        try {
            return WorkerThreads.choose(
                    sc.master(), settings.workers(), Runtime.getRuntime().availableProcessors());
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--workers/--master: " + e.getMessage(), e);
        }
    }

    /** The defaults in which {@code spark-train} differs from {@code train}: the batch size. */
    static final class Defaults implements IDefaultValueProvider {

        /** Each worker's minibatch, images. */
        static final int BATCH_SIZE = 32;

        /** {@inheritDoc} */
        @Override
        public String defaultValue(ArgSpec argSpec) {
            return argSpec.isOption() && ((OptionSpec) argSpec).longestName().equals("--batch-size")
                    ? String.valueOf(BATCH_SIZE)
                    : null;
        }
    }
}
