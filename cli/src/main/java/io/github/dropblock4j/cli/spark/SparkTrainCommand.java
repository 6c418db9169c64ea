package io.github.dropblock4j.cli.spark;

import com.google.gson.GsonBuilder;
import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.input.BlockSizeConverter;
import io.github.dropblock4j.cli.input.DropProbConverter;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.spark.SparkJvmOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Trains the DL4J ResNet with DropBlock on Apache Spark by parameter averaging, on {@code local[2]}
 * by default or on any master, and writes a run directory like {@code train}'s: {@code config.json}
 * (the settings shared with {@code train}, the batch size per worker), {@code spark.json} ({@link
 * SparkSettings}), {@code metrics.csv}, {@code summary.json}, the model and {@code curves.png}, in
 * {@code <out>.partial} until all are written. A failed or killed run leaves only {@code
 * <out>.partial}, which can be deleted: {@code spark-train} does not resume.
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
        description = {
            "Train the DL4J ResNet with DropBlock by parameter averaging on Apache Spark: on"
                    + " local[2] by default, on any master with --master, or on a cluster through"
                    + " spark-submit (README). Writes metrics.csv, summary.json, the model and"
                    + " curves.png to a run directory, as train does.",
            "The recipe is train's: DropBlock after every batch norm of the last two stages and on"
                    + " their shortcuts, keep_prob ramped linearly from 1 to 1 - --drop-prob over"
                    + " the true steps of training on every worker."
        })
public final class SparkTrainCommand implements Callable<Integer> {

    static final String DEFAULT_MASTER = "local[2]";
    static final String SETTINGS = "spark.json";

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

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description =
                    "Data: 'embedded' (the default, a Fashion-MNIST subset shipped inside),"
                            + " 'fashion-mnist' (Debian's dataset-fashion-mnist), or a directory"
                            + " of IDX or CIFAR-10 binary files; read on the driver.")
    private String data = DataSource.EMBEDDED;

    @Option(
            names = "--model",
            description = "The ResNet, resnet<depth> as for train (default: ${DEFAULT-VALUE}).")
    private String model = "resnet20";

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    private int epochs = 3;

    @Option(
            names = "--batch-size",
            description = "Minibatch size of each worker (default: ${DEFAULT-VALUE}).")
    private int batchSize = 32;

    @Option(
            names = "--lr",
            description =
                    "Initial learning rate of SGD with Nesterov momentum, cosine-decayed to 0"
                            + " (default: ${DEFAULT-VALUE}).")
    private float lr = 0.1f;

    @Option(names = "--weight-decay", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    private float weightDecay = 5e-4f;

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
    private int seed = 1;

    @Option(
            names = "--block-size",
            converter = BlockSizeConverter.class,
            description = "DropBlock block size (default: ${DEFAULT-VALUE}).")
    private int blockSize = 7;

    @Option(
            names = "--drop-prob",
            converter = DropProbConverter.class,
            description = "Target drop probability, 1 - keep_prob (default: ${DEFAULT-VALUE}).")
    private float dropProb = 0.1f;

    @Option(
            names = "--schedule",
            description =
                    "linear (keep_prob from 1 to its target over the run, the paper's) or"
                            + " constant (default: linear).")
    private TrainConfig.Schedule schedule = TrainConfig.Schedule.LINEAR;

    @Option(
            names = "--stages",
            split = ",",
            paramLabel = "N[,N...]",
            description = "Stages (1-based) that get DropBlock (default: the last two).")
    private List<Integer> stages;

    @Option(names = "--no-shortcut", description = "Residual branches only, not the shortcuts.")
    private boolean noShortcut;

    @Option(
            names = "--train-limit",
            paramLabel = "N",
            description = "Train on a stratified subset of N images (default: all).")
    private int trainLimit;

    @Option(
            names = "--test-limit",
            paramLabel = "N",
            description = "Test on a stratified subset of N images (default: all).")
    private int testLimit;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Run directory to create (default: runs/spark-<model>-<time>).")
    private Path out;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws IOException {
        TrainConfig config = config();
        SparkJvmOptions.requireOpen();
        PrintWriter console = spec.commandLine().getOut();
        // Read the data before creating anything, so bad data leaves nothing behind.
        DataSource source = DataSource.resolve(config.data());
        ImageTrainingData data = new ImageTrainingData(source.train(), source.test(), config);
        SparkConf sparkConf = sparkConf();
        try (JavaSparkContext sc = new JavaSparkContext(sparkConf)) {
            SparkSettings settings = settings(sc);
            SparkTrainingRun run =
                    new SparkTrainingRun(
                            config, settings, data, console, spec.commandLine().getErr());
            RunDirectory dir = RunDirectory.create(out != null ? out : defaultOut(config), config);
            Files.writeString(
                    dir.partial().resolve(SETTINGS),
                    new GsonBuilder().setPrettyPrinting().create().toJson(settings),
                    StandardCharsets.UTF_8);
            console.println(
                    "training "
                            + config
                            + " on Spark "
                            + settings.master()
                            + ", "
                            + settings.workers()
                            + " workers, averaging every "
                            + settings.averagingFrequency()
                            + " minibatches");
            console.println("data: " + data);
            console.flush();
            RunSummary summary = run.run(sc, dir);
            console.printf(
                    Locale.ROOT,
                    "final test accuracy %.4f, test loss %.4f, %.0f s, %.0f img/s%nresults in %s%n",
                    summary.finalTestAccuracy(),
                    summary.finalTestLoss(),
                    summary.wallSeconds(),
                    summary.samplesPerSecond(),
                    dir.out());
            console.flush();
            return 0;
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
            return TrainConfig.builder()
                    .optData(data)
                    .optModel(model)
                    .optEpochs(epochs)
                    .optBatchSize(batchSize)
                    .optLr(lr)
                    .optWeightDecay(weightDecay)
                    .optSeed(seed)
                    .optBlockSize(blockSize)
                    .optDropProb(dropProb)
                    .optSchedule(schedule)
                    .optStages(stages)
                    .optShortcut(!noShortcut)
                    .optRegularizer(Regularizer.DROPBLOCK)
                    .optFramework("dl4j")
                    .optTrainLimit(trainLimit)
                    .optTestLimit(testLimit)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
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

    private static Path defaultOut(TrainConfig config) {
        return Path.of(
                "runs",
                "spark-"
                        + config.model()
                        + "-"
                        + LocalDateTime.now()
                                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
}
