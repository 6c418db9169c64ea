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
import picocli.CommandLine.Mixin;
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
        header = "Run the paper's comparisons over several seeds; write report.md and report.png.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the paper's comparisons over several seeds: block size 1 (dropout), 3, 5, 7; linear vs",
            "constant schedule; last stage vs last two; residual only vs residual and shortcut; no",
            "regularization; spatial dropout. Writes report.md and report.png."
        })
final class AblateCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Mixin SharedTrainingOptions shared = new SharedTrainingOptions();

    @Option(names = "--seeds", description = "Seeds per configuration (default: ${DEFAULT-VALUE}).")
    int seeds = 3;

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
            shared.epochs = 1;
            seeds = 2;
            shared.trainLimit = shared.trainLimit == 0 ? 1000 : shared.trainLimit;
            shared.testLimit = shared.testLimit == 0 ? 500 : shared.testLimit;
        }
        if (seeds < 1 || seeds > 100) {
            throw new IllegalArgumentException("--seeds must be in [1, 100], got " + seeds);
        }
        List<AblationPlan.Variant> variants = selected();
        TrainConfig base = shared.applyTo(new TrainConfig()).validate();
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
        cmd.append(" --data ").append(shared.data).append(" --model ").append(shared.model)
                .append(" --epochs ").append(shared.epochs).append(" --seeds ").append(seeds)
                .append(" --batch-size ").append(shared.batchSize).append(" --lr ").append(shared.lr)
                .append(" --drop-prob ").append(shared.dropProb);
        if (shared.trainLimit > 0) {
            cmd.append(" --train-limit ").append(shared.trainLimit);
        }
        if (shared.testLimit > 0) {
            cmd.append(" --test-limit ").append(shared.testLimit);
        }
        if (only != null && !only.isEmpty()) {
            cmd.append(" --only ").append(only.stream().collect(Collectors.joining(",")));
        }
        return cmd.append(" --out ").append(out).toString();
    }
}
