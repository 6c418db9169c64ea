package io.github.dropblock4j.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The output directory of one training run, written so that nothing half-written is ever taken
 * for a result.
 *
 * <p>While the run trains, everything goes to {@code <out>.partial}: after each epoch a
 * checkpoint (model parameters, which carry the DropBlock schedule's step, and {@code state.json})
 * replaces the previous one by rename. At the end the results ({@code metrics.csv}, {@code
 * summary.json}, the model, {@code curves.png}) are written there and the directory is renamed to
 * {@code <out>}. An interrupted run leaves only {@code <out>.partial}, which {@code --resume <out>}
 * continues from its last finished epoch.
 */
final class RunDirectory {

    static final String CHECKPOINT = "checkpoint";
    static final String STATE = "state.json";
    static final String SUMMARY = "summary.json";
    static final String METRICS = "metrics.csv";
    static final String CURVES = "curves.png";
    static final String MODEL = "model";
    static final String CONFIG = "config.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .create();

    /**
     * What a checkpoint holds besides the model.
     *
     * @param config the run's settings
     * @param epochsDone finished epochs
     * @param steps global training steps done
     * @param epochs metrics of the finished epochs
     * @param wallSeconds time spent so far
     */
    record State(TrainConfig config, int epochsDone, int steps, List<EpochMetrics> epochs, double wallSeconds) {}

    private final Path out;
    private final Path partial;

    private RunDirectory(Path out) {
        this.out = out.toAbsolutePath().normalize();
        this.partial = this.out.resolveSibling(this.out.getFileName() + ".partial");
    }

    /**
     * Prepares a new run's directory and records its settings there.
     *
     * @param out where the finished run goes; must not exist yet
     * @param config the run's settings
     * @return the run directory, with its partial directory created
     * @throws BadInputException if {@code out} exists or cannot be created
     */
    static RunDirectory create(Path out, TrainConfig config) {
        RunDirectory dir = new RunDirectory(out);
        if (Files.exists(dir.out)) {
            throw new BadInputException("--out " + out + ": already exists; choose a new directory, or --resume a"
                    + " run that was interrupted");
        }
        if (Files.exists(dir.partial)) {
            throw new BadInputException("--out " + out + ": an interrupted run is in " + dir.partial
                    + "; continue it with --resume " + out + ", or delete it");
        }
        try {
            Files.createDirectories(dir.partial);
        } catch (IOException e) {
            throw new BadInputException("--out " + out + ": cannot create directory " + dir.partial + ": " + e, e);
        }
        try {
            Files.writeString(dir.partial.resolve(CONFIG), GSON.toJson(config), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BadInputException("--out " + out + ": cannot write to " + dir.partial + ": " + e, e);
        }
        return dir;
    }

    /**
     * Finds an interrupted run.
     *
     * @param out the run's {@code --out}, or its {@code .partial} directory
     * @return the run directory
     * @throws BadInputException if there is no interrupted run there
     */
    static RunDirectory resume(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString();
        Path finalPath = name.endsWith(".partial")
                ? out.resolveSibling(name.substring(0, name.length() - ".partial".length())) : out;
        RunDirectory dir = new RunDirectory(finalPath);
        if (!Files.isDirectory(dir.partial)) {
            if (Files.exists(dir.out.resolve(SUMMARY))) {
                throw new BadInputException("--resume " + out + ": the run is already complete");
            }
            throw new BadInputException("--resume " + out + ": no interrupted run (" + dir.partial + " not found)");
        }
        return dir;
    }

    /**
     * Reads the settings an interrupted run was started with.
     *
     * @return the settings, validated
     * @throws BadInputException if they are missing or unreadable
     */
    TrainConfig readConfig() {
        Path file = partial.resolve(CONFIG);
        try {
            TrainConfig config = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), TrainConfig.class);
            if (config == null) {
                throw new BadInputException("--resume: " + file + " is empty");
            }
            return config.validate();
        } catch (IOException | JsonParseException | IllegalArgumentException e) {
            throw new BadInputException("--resume: cannot read the run's settings " + file + ": " + e.getMessage(), e);
        }
    }

    Path out() {
        return out;
    }

    Path partial() {
        return partial;
    }

    /**
     * Reads the last checkpoint's state, if an epoch has finished.
     *
     * @return the state, or empty when the run had not finished an epoch
     * @throws BadInputException if the state file is unreadable
     */
    Optional<State> loadState() {
        Path state = partial.resolve(CHECKPOINT).resolve(STATE);
        if (!Files.exists(state)) {
            return Optional.empty();
        }
        try {
            State s = GSON.fromJson(Files.readString(state, StandardCharsets.UTF_8), State.class);
            if (s == null || s.config() == null || s.epochs() == null || s.epochsDone() < 0) {
                throw new BadInputException("--resume: checkpoint " + state + " is incomplete");
            }
            return Optional.of(s);
        } catch (IOException | JsonParseException e) {
            throw new BadInputException("--resume: cannot read checkpoint " + state + ": " + e.getMessage(), e);
        }
    }

    /** Returns the directory of the last checkpoint's model. */
    Path checkpointModel() {
        return partial.resolve(CHECKPOINT);
    }

    /**
     * Replaces the checkpoint: writes the new one beside it, then swaps by rename.
     *
     * @param writeModel saves the model into the directory it is given
     * @param state the state to record
     */
    void saveCheckpoint(IoConsumer<Path> writeModel, State state) throws IOException {
        Path fresh = partial.resolve(CHECKPOINT + ".new");
        deleteTree(fresh);
        Files.createDirectories(fresh);
        writeModel.accept(fresh);
        Files.writeString(fresh.resolve(STATE), GSON.toJson(state), StandardCharsets.UTF_8);
        Path old = partial.resolve(CHECKPOINT + ".old");
        deleteTree(old);
        Path current = partial.resolve(CHECKPOINT);
        if (Files.exists(current)) {
            move(current, old);
        }
        move(fresh, current);
        deleteTree(old);
    }

    /**
     * Writes the results and renames the partial directory to its final name.
     *
     * @param summary the run's summary
     * @param writeModel saves the model into the directory it is given
     */
    void finish(RunSummary summary, IoConsumer<Path> writeModel) throws IOException {
        Path model = partial.resolve(MODEL);
        Files.createDirectories(model);
        writeModel.accept(model);
        StringBuilder csv = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
        summary.epochs().forEach(e -> csv.append(e.toCsv()).append('\n'));
        Files.writeString(partial.resolve(METRICS), csv, StandardCharsets.UTF_8);
        CurvesPlot.write(summary.epochs(), summary.config().model + ", " + summary.config().regularizer.optionValue(),
                partial.resolve(CURVES));
        Files.writeString(partial.resolve(SUMMARY), GSON.toJson(summary), StandardCharsets.UTF_8);
        deleteTree(partial.resolve(CHECKPOINT));
        move(partial, out);
    }

    /**
     * Reads a finished run's summary.
     *
     * @param out the run's directory
     * @return the summary, or empty if the run has not finished
     */
    static Optional<RunSummary> readSummary(Path out) {
        Path file = out.resolve(SUMMARY);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunSummary.class));
        } catch (IOException | JsonParseException e) {
            throw new BadInputException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** An action on a path that may fail with an {@link IOException}. */
    @FunctionalInterface
    interface IoConsumer<T> {
        void accept(T value) throws IOException;
    }
}
