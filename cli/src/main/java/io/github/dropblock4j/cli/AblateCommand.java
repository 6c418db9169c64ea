package io.github.dropblock4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs the paper's comparisons ({@link AblationPlan}) over several seeds on one data set and
 * writes {@code report.md} and {@code report.png} ({@link AblationReport}). Each run has its own
 * run directory under {@code <out>/runs}; finished runs are reused and interrupted ones resumed
 * when an ablation is restarted.
 */
@Command(
        name = "ablate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the paper's comparisons over several seeds: block size 1 (dropout), 3, 5, 7; linear vs",
            "constant schedule; last stage vs last two; residual only vs residual and shortcut; no",
            "regularization; spatial dropout. Writes report.md and report.png."
        })
final class AblateCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", description = "Data, as for train (default: ${DEFAULT-VALUE}).")
    String data = "embedded";

    @Option(names = "--model", description = "Model, as for train (default: ${DEFAULT-VALUE}).")
    String model = "resnet20";

    @Option(names = "--epochs", description = "Epochs per run (default: ${DEFAULT-VALUE}).")
    int epochs = 3;

    @Option(names = "--seeds", description = "Seeds per configuration (default: ${DEFAULT-VALUE}).")
    int seeds = 3;

    @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = 64;

    @Option(names = "--lr", description = "Initial learning rate (default: ${DEFAULT-VALUE}).")
    float lr = 0.1f;

    @Option(names = "--drop-prob", description = "Target drop probability of every regularizer (default: ${DEFAULT-VALUE}).")
    float dropProb = 0.1f;

    @Option(names = "--train-limit", paramLabel = "N", description = "Train on a stratified subset of N images.")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", description = "Test on a stratified subset of N images.")
    int testLimit;

    @Option(names = "--only", split = ",", paramLabel = "NAME[,NAME...]",
            description = "Run only these configurations (default: all).")
    List<String> only;

    @Option(names = "--quick", description = "A small ablation that finishes in minutes: 1 epoch, 2 seeds,"
            + " 1000 training and 500 test images.")
    boolean quick;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("runs", "ablation");

    @Override
    public Integer call() throws IOException {
        if (quick) {
            epochs = 1;
            seeds = 2;
            trainLimit = trainLimit == 0 ? 1000 : trainLimit;
            testLimit = testLimit == 0 ? 500 : testLimit;
        }
        if (seeds < 1 || seeds > 100) {
            throw new IllegalArgumentException("--seeds must be in [1, 100], got " + seeds);
        }
        List<AblationPlan.Variant> variants = selected();
        TrainConfig base = new TrainConfig();
        base.data = data;
        base.model = model;
        base.epochs = epochs;
        base.batchSize = batchSize;
        base.lr = lr;
        base.dropProb = dropProb;
        base.trainLimit = trainLimit;
        base.testLimit = testLimit;
        base.validate();
        TrainingData trainingData = TrainCommand.load(base);
        try {
            Files.createDirectories(out.resolve("runs"));
        } catch (IOException e) {
            throw new BadInputException("--out " + out + ": cannot create directory: " + e, e);
        }
        if (!Files.isWritable(out)) {
            throw new BadInputException("--out " + out + ": directory is not writable");
        }
        PrintWriter console = spec.commandLine().getOut();
        List<AblationReport.Row> rows = new ArrayList<>();
        for (AblationPlan.Variant variant : variants) {
            double[] finals = new double[seeds];
            double[] bests = new double[seeds];
            double wall = 0;
            for (int seed = 1; seed <= seeds; seed++) {
                TrainConfig config = variant.apply(base, seed);
                RunSummary summary = runOrReuse(config, trainingData, out.resolve("runs").resolve(
                        variant.name() + "-seed" + seed), console);
                finals[seed - 1] = summary.finalTestAccuracy();
                bests[seed - 1] = summary.bestTestAccuracy();
                wall += summary.wallSeconds();
            }
            rows.add(new AblationReport.Row(variant, finals, bests, wall));
            console.printf(Locale.ROOT, "%-16s test accuracy %.4f +- %.4f over %d seeds%n", variant.name(),
                    AblationReport.mean(finals), AblationReport.std(finals), seeds);
            console.flush();
            // Rewritten after every configuration, so a long ablation shows what it has so far.
            AblationReport.write(out, commandLine(), base, rows);
        }
        console.println("wrote " + out.resolve("report.md") + " and " + out.resolve("report.png"));
        return 0;
    }

    private List<AblationPlan.Variant> selected() {
        if (only == null || only.isEmpty()) {
            return AblationPlan.VARIANTS;
        }
        List<String> known = AblationPlan.VARIANTS.stream().map(AblationPlan.Variant::name).toList();
        for (String name : only) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("--only must name configurations from " + known + ", got " + name);
            }
        }
        return AblationPlan.VARIANTS.stream().filter(v -> only.contains(v.name())).toList();
    }

    private RunSummary runOrReuse(TrainConfig config, TrainingData trainingData, Path runDir, PrintWriter console)
            throws IOException {
        var finished = RunDirectory.readSummary(runDir);
        if (finished.isPresent()) {
            if (!finished.get().config().equals(config)) {
                throw new BadInputException("--out " + out + ": run " + runDir + " was made with other settings ("
                        + finished.get().config() + "); use a new --out");
            }
            console.println("reusing " + runDir);
            return finished.get();
        }
        RunDirectory dir;
        if (Files.isDirectory(runDir.resolveSibling(runDir.getFileName() + ".partial"))) {
            dir = RunDirectory.resume(runDir);
            console.println("resuming " + runDir);
        } else {
            dir = RunDirectory.create(runDir, config);
        }
        console.println("training " + config);
        console.flush();
        return new TrainingRun(config, trainingData, console, spec.commandLine().getErr(), System.console() != null)
                .run(dir);
    }

    private String commandLine() {
        StringBuilder cmd = new StringBuilder("./dropblock4j ablate");
        cmd.append(" --data ").append(data).append(" --model ").append(model).append(" --epochs ").append(epochs)
                .append(" --seeds ").append(seeds).append(" --batch-size ").append(batchSize)
                .append(" --lr ").append(lr).append(" --drop-prob ").append(dropProb);
        if (trainLimit > 0) {
            cmd.append(" --train-limit ").append(trainLimit);
        }
        if (testLimit > 0) {
            cmd.append(" --test-limit ").append(testLimit);
        }
        if (only != null && !only.isEmpty()) {
            cmd.append(" --only ").append(only.stream().collect(Collectors.joining(",")));
        }
        return cmd.append(" --out ").append(out).toString();
    }
}
