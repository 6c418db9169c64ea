package io.github.dropblock4j.cli.ablate;

import io.github.dropblock4j.cli.data.DataSource;
import io.github.dropblock4j.cli.input.BadInputException;
import io.github.dropblock4j.cli.input.DropProbConverter;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.cli.train.EpochOptions;
import io.github.dropblock4j.cli.train.FrameworkConverter;
import io.github.dropblock4j.cli.train.ImageTrainingData;
import io.github.dropblock4j.cli.train.RunConsole;
import io.github.dropblock4j.cli.train.RunStoppedException;
import io.github.dropblock4j.cli.train.StopRequest;
import io.github.dropblock4j.cli.train.TrainingOptions;
import io.github.dropblock4j.cli.train.TrainingRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Runs the ablation ({@link AblationPlan}): first each regularizer at every drop probability of a
 * grid for a few seeds, to choose its drop probability on the validation set; then every arm at its
 * chosen drop probability for every seed. Writes {@code report.md}, {@code report.png} and {@code
 * overfitting.png} ({@link AblationReport}) after every finished run.
 *
 * <p>Each run has its own run directory under {@code <out>/runs}; finished runs are reused and
 * interrupted ones resumed, so an ablation can be spread over several sessions. Runs are taken seed
 * by seed, so a partial ablation has every arm at the same number of seeds. Two processes may share
 * one {@code --out}: each run is locked ({@link RunLock}) while it trains, and a process that finds
 * a run locked goes on with the next and waits for it at the end. Ctrl-C or SIGTERM stops the run
 * in progress after its current batch with a checkpoint; the same command continues the ablation.
 */
@Command(
        name = "ablate",
        header = "Run the paper's comparisons over several seeds; write report.md and report.png.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Compare DropBlock (the paper's recipe) with no regularization, dropout, spatial"
                    + " dropout, block sizes 3 and 5, a constant schedule, the last stage only and"
                    + " the residual branch only.",
            "Each regularizer's drop probability is chosen from --drop-probs on a validation split"
                    + " (--val-split), and arms are paired by seed. Writes report.md, report.png"
                    + " and overfitting.png.",
            "--study augmented runs the second study instead: fitted blocks (5,3) and their"
                    + " recalibrated batch norms against no regularization, dropout, spatial dropout"
                    + " and block 7, on augmented images.",
            "Finished runs are reused and interrupted ones resumed, so running the same command"
                    + " again continues an ablation."
        })
public final class AblateCommand implements Callable<Integer> {

    /**
     * Validation images held out when {@code --val-split} is not given: the ablation chooses on
     * them.
     */
    static final int DEFAULT_VAL_SPLIT = 1000;

    /** How often a process waiting for runs locked by another looks again. */
    private static final long WAIT_MILLIS = 5_000;

    @Spec private CommandSpec spec;

    @Mixin private TrainingOptions training;

    @Mixin private EpochOptions epochOptions;

    @Option(
            names = "--study",
            paramLabel = "NAME",
            description =
                    "The study: paper (the paper's comparisons around block 7, no augmentation) or"
                            + " augmented (5,000 augmented images, 60 epochs, 30-epoch selection"
                            + " runs (or --epochs if fewer) on 0.02,0.05,0.1,0.2, blocks fitted to the maps, batch norms"
                            + " recalibrated, 8 seeds for none and fitted; options given override"
                            + " its defaults) (default: ${DEFAULT-VALUE}).")
    private String study = "paper";

    @Option(
            names = "--seeds",
            description = "Seeds per arm in the main comparison (default: ${DEFAULT-VALUE}).")
    private int seeds = 5;

    @Option(
            names = "--decisive-seeds",
            paramLabel = "N",
            description =
                    "Seeds for the study's decisive arms (augmented: none, fitted), at least"
                            + " --seeds (default: --seeds; in the augmented study 8, or --seeds"
                            + " if more).")
    private int decisiveSeeds;

    @Option(
            names = "--selection-epochs",
            paramLabel = "N",
            description =
                    "Epochs of a selection run (default: --epochs, and a selection run doubles"
                            + " as the main run of its seed; 30 in the augmented study).")
    private int selectionEpochs;

    @Option(
            names = "--selection-seeds",
            paramLabel = "N",
            description =
                    "Seeds per drop probability when choosing it" + " (default: ${DEFAULT-VALUE}).")
    private int selectionSeeds = 2;

    @Option(
            names = "--drop-probs",
            split = ",",
            paramLabel = "P",
            converter = DropProbConverter.class,
            description =
                    "Drop probabilities each regularizer chooses from on the validation set"
                            + " (default: 0.05,0.15,0.3; --val-split defaults to "
                            + DEFAULT_VAL_SPLIT
                            + " here).")
    private float[] dropProbs = {0.05f, 0.15f, 0.3f};

    @Option(
            names = "--only",
            split = ",",
            paramLabel = "ARM",
            description = "Run only these arms of the study (default: all).")
    private List<String> only;

    @Option(
            names = "--quick",
            description =
                    "A small ablation that finishes in minutes: 1 epoch, 2 seeds and one"
                            + " selection seed, on 500 training, 200 validation and 500 test images"
                            + " unless those options are given.")
    private boolean quick;

    @Option(
            names = "--framework",
            paramLabel = "NAME",
            converter = FrameworkConverter.class,
            completionCandidates = FrameworkConverter.class,
            description =
                    "The framework every run trains on: ${COMPLETION-CANDIDATES} (default: djl).")
    private Framework framework = Framework.DJL;

    @Option(
            names = "--report-only",
            description = "Write the report from the finished runs; train nothing.")
    private boolean reportOnly;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Output directory (default: runs/ablation, runs/ablation-augmented).")
    private Path out;

    private DataSource source;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws IOException, InterruptedException {
        AblationSettings settings = settings();
        try {
            Files.createDirectories(out.resolve("runs"));
        } catch (IOException e) {
            throw new BadInputException("--out " + out + ": cannot create directory: " + e, e);
        }
        if (!Files.isWritable(out)) {
            throw new BadInputException("--out " + out + ": directory is not writable");
        }
        PrintWriter console = spec.commandLine().getOut();
        AblationResults results = AblationResults.read(settings);
        if (!reportOnly) {
            source = DataSource.resolve(settings.base().data());
            try (StopRequest stop = StopRequest.onSignal()) {
                try {
                    results = train(settings, console, stop);
                } catch (RunStoppedException e) {
                    console.println(e.getMessage() + "; continue with: " + settings.command());
                    console.flush();
                    return StopRequest.EXIT_CODE;
                }
            }
        }
        AblationReport.write(results);
        console.println("wrote " + out.resolve("report.md") + ", report.png and overfitting.png");
        return 0;
    }

    /** Trains the selection runs, then the main runs, and returns what they give. */
    private AblationResults train(AblationSettings settings, PrintWriter console, StopRequest stop)
            throws IOException, InterruptedException {
        List<Job> waiting = new ArrayList<>();
        AblationPlan plan = settings.plan();
        // One drop probability needs no choosing.
        int selectionSeeds = settings.dropProbs().length > 1 ? settings.selectionSeeds() : 0;
        for (int seed = 1; seed <= selectionSeeds; seed++) {
            for (String name : settings.selectors()) {
                AblationPlan.Arm arm = plan.arm(name);
                for (float p : settings.dropProbs()) {
                    runOrDefer(
                            settings,
                            new Job(
                                    settings.selectionDirectory(arm, p, seed),
                                    settings.selectionConfig(arm, p, seed)),
                            waiting,
                            console,
                            stop,
                            true);
                }
            }
        }
        finishWaiting(settings, waiting, console, stop);
        AblationResults results = AblationResults.read(settings);
        for (int seed = 1; seed <= settings.decisiveSeeds(); seed++) {
            for (AblationPlan.Arm arm : settings.arms()) {
                if (!arm.trains() || seed > settings.seeds(arm)) {
                    continue;
                }
                float p = results.dropProb(arm).orElseThrow();
                runOrDefer(
                        settings,
                        new Job(
                                settings.runDirectory(arm, p, seed),
                                arm.configure(settings.base(), p, seed)),
                        waiting,
                        console,
                        stop,
                        true);
            }
        }
        finishWaiting(settings, waiting, console, stop);
        return AblationResults.read(settings);
    }

    private AblationSettings settings() {
        AblationPlan plan;
        try {
            plan = AblationPlan.study(study);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        boolean augmented = plan == AblationPlan.AUGMENTED;
        List<AblationPlan.Arm> arms = plan.arms();
        if (only != null && !only.isEmpty()) {
            for (String name : only) {
                if (!plan.names().contains(name)) {
                    throw new ParameterException(
                            spec.commandLine(),
                            "--only must name arms of the "
                                    + plan.name()
                                    + " study, "
                                    + plan.names()
                                    + ", got "
                                    + name);
                }
            }
            arms = plan.arms().stream().filter(a -> only.contains(a.name())).toList();
            for (AblationPlan.Arm arm : arms) {
                if (!arm.trains() && !only.contains(arm.readsFrom())) {
                    throw new ParameterException(
                            spec.commandLine(),
                            "--only "
                                    + arm.name()
                                    + " reads the runs of "
                                    + arm.readsFrom()
                                    + ", which --only leaves out; name both, got "
                                    + String.join(",", only));
                }
            }
        }
        if (out == null) {
            out = Path.of("runs", augmented ? "ablation-augmented" : "ablation");
        }
        if (augmented) {
            unlessGiven("--drop-probs", () -> dropProbs = new float[] {0.02f, 0.05f, 0.1f, 0.2f});
        }
        boolean decisiveGiven = given("--decisive-seeds");
        if (decisiveGiven && plan.decisiveArms().isEmpty()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--decisive-seeds applies to a study with decisive arms (augmented); the "
                            + plan.name()
                            + " study has none, got --decisive-seeds "
                            + decisiveSeeds);
        }
        if (quick) {
            seeds = 2;
            decisiveSeeds = 2;
            selectionSeeds = 1;
            selectionEpochs = 1;
        }
        if (seeds < 1 || seeds > 100) {
            throw new ParameterException(
                    spec.commandLine(), "--seeds must be in [1, 100], got " + seeds);
        }
        if (!quick && !decisiveGiven) {
            decisiveSeeds = augmented ? Math.max(8, seeds) : seeds;
        }
        if (decisiveSeeds < seeds || decisiveSeeds > 100) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--decisive-seeds must be in [--seeds ("
                            + seeds
                            + "), 100], got "
                            + decisiveSeeds);
        }
        if (selectionSeeds < 1 || selectionSeeds > 100) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--selection-seeds must be in [1, 100], got " + selectionSeeds);
        }
        TrainConfig base =
                training.toConfig(
                        b -> {
                            epochOptions.applyTo(b).optFramework(framework);
                            if (augmented) {
                                b.optAugment(true).optRecalibrateBn(true);
                                unlessGiven("--train-limit", () -> b.optTrainLimit(5000));
                                unlessGiven("--epochs", () -> b.optEpochs(60));
                            }
                            if (quick) {
                                b.optEpochs(1);
                                unlessGiven("--train-limit", () -> b.optTrainLimit(500));
                                unlessGiven("--test-limit", () -> b.optTestLimit(500));
                            }
                            unlessGiven(
                                    "--val-split",
                                    () -> b.optValSplit(quick ? 200 : DEFAULT_VAL_SPLIT));
                            return b;
                        });
        if (!quick && !given("--selection-epochs")) {
            selectionEpochs = augmented ? Math.min(30, base.epochs()) : base.epochs();
        }
        if (selectionEpochs < 1 || selectionEpochs > base.epochs()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--selection-epochs must be in [1, --epochs ("
                            + base.epochs()
                            + ")], got "
                            + selectionEpochs);
        }
        if (dropProbs.length > 1 && base.valSplit() == 0) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--val-split must be > 0 to choose"
                            + " among --drop-probs "
                            + Arrays.toString(dropProbs)
                            + " (the test set is never used to choose), got 0");
        }
        // The reproduce line is what was typed, less the switch that only rewrites the report.
        String command =
                "./dropblock4j "
                        + String.join(
                                " ",
                                spec.commandLine().getParseResult().originalArgs().stream()
                                        .filter(a -> !a.equals("--report-only"))
                                        .toList());
        return new AblationSettings(
                plan,
                out,
                base,
                arms,
                dropProbs.clone(),
                selectionSeeds,
                selectionEpochs,
                seeds,
                decisiveSeeds,
                command);
    }

    private void unlessGiven(String option, Runnable setDefault) {
        if (!given(option)) {
            setDefault.run();
        }
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** One run of the ablation: its directory and settings. */
    private record Job(Path runDir, TrainConfig config) {}

    private void runOrDefer(
            AblationSettings settings,
            Job job,
            List<Job> waiting,
            PrintWriter console,
            StopRequest stop,
            boolean announce)
            throws IOException {
        Path runDir = job.runDir();
        // Between runs, and every few seconds while waiting for other processes' runs.
        if (stop.isRequested()) {
            throw new RunStoppedException("stopped before " + runDir.getFileName());
        }
        TrainConfig config = job.config();
        if (RunDirectory.readSummary(runDir).isPresent()) {
            if (announce) {
                console.println("reusing " + runDir);
            }
            return;
        }
        Optional<RunLock> lock = RunLock.tryAcquire(runDir);
        if (lock.isEmpty()) {
            if (announce) {
                console.println(
                        "busy (another process trains it; waiting for it at the end): " + runDir);
            }
            waiting.add(job);
            return;
        }
        try (RunLock held = lock.get()) {
            // Another process may have finished it between the check and the lock.
            if (RunDirectory.readSummary(runDir).isPresent()) {
                return;
            }
            RunDirectory dir;
            if (Files.isDirectory(runDir.resolveSibling(runDir.getFileName() + ".partial"))) {
                dir = RunDirectory.resume(runDir);
                if (!dir.readConfig().equals(config)) {
                    throw new BadInputException(
                            "--out "
                                    + out
                                    + ": interrupted run "
                                    + dir.partial()
                                    + " was made with other settings ("
                                    + dir.readConfig()
                                    + "); use a new --out");
                }
                console.println("resuming " + runDir);
            } else {
                dir = RunDirectory.create(runDir, config);
                console.println("training " + runDir.getFileName() + ": " + config);
            }
            console.flush();
            ImageTrainingData data = new ImageTrainingData(source.train(), source.test(), config);
            new TrainingRun(config, data, RunConsole.of(console, spec.commandLine().getErr(), stop))
                    .run(dir);
        }
        AblationReport.write(AblationResults.read(settings));
    }

    private void finishWaiting(
            AblationSettings settings, List<Job> waiting, PrintWriter console, StopRequest stop)
            throws IOException, InterruptedException {
        while (!waiting.isEmpty()) {
            List<Job> again = new ArrayList<>(waiting);
            waiting.clear();
            for (Job job : again) {
                runOrDefer(settings, job, waiting, console, stop, false);
            }
            if (!waiting.isEmpty()) {
                Thread.sleep(WAIT_MILLIS);
            }
        }
        console.flush();
    }
}
