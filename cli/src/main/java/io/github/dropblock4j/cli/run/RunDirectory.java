package io.github.dropblock4j.cli.run;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import io.github.dropblock4j.cli.input.BadInputException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The output directory of one training run, written so that nothing half-written is ever taken for
 * a result.
 *
 * <p>While the run trains, everything goes to {@code <out>.partial}: {@code config.json} first,
 * then after each epoch (and when the run is stopped) a checkpoint, the model as its framework
 * writes it (with the DropBlock schedule's step) and {@code state.json}. A new checkpoint is
 * written beside the last one and swapped in by renames, and the last one is deleted only after
 * that, so a write that fails (disk full, read-only) or a crash at any point leaves a complete
 * checkpoint. At the end the results ({@code metrics.csv}, {@code summary.json}, the model, {@code
 * curves.png}) are written there and the directory is renamed to {@code <out>}. An interrupted run
 * leaves only {@code <out>.partial}, which {@code --resume <out>} continues: {@link
 * #checkpointDirectory()} hands a run the folder to restore its model from, whichever name the last
 * swap left it under. This class knows no framework: a run writes and reads its model in the
 * folders it is given.
 *
 * <p>The JSON files keep the field names of {@link TrainConfig}, {@link RunSummary}, {@link
 * EpochMetrics} and {@link State}; a settings field missing from an older file takes the command
 * line's default. Not thread safe.
 */
public final class RunDirectory {

    /** The checkpoint's directory inside the partial directory. */
    public static final String CHECKPOINT = "checkpoint";

    /** The checkpoint's state file. */
    public static final String STATE = "state.json";

    /** The finished run's summary. */
    public static final String SUMMARY = "summary.json";

    /** The finished run's per-epoch metrics. */
    public static final String METRICS = "metrics.csv";

    /** The finished run's loss and accuracy curves. */
    public static final String CURVES = "curves.png";

    /** The model's directory and the prefix of its parameter files. */
    public static final String MODEL = "model";

    /** The run's settings, written when the run starts. */
    public static final String CONFIG = "config.json";

    private static final String PARTIAL = ".partial";
    private static final String OLD = ".old";
    private static final Gson GSON =
            new GsonBuilder()
                    .setPrettyPrinting()
                    .serializeSpecialFloatingPointValues()
                    .registerTypeAdapterFactory(new DefaultSettings())
                    .create();

    /**
     * What a checkpoint holds besides the model.
     *
     * @param config the run's settings
     * @param epochsDone finished epochs
     * @param steps global training steps done
     * @param epochs metrics of the finished epochs
     * @param wallSeconds time spent so far
     * @param partial the unfinished epoch of a run that was stopped inside one; null when the
     *     checkpoint was written at the end of an epoch
     */
    public record State(
            TrainConfig config,
            int epochsDone,
            int steps,
            List<EpochMetrics> epochs,
            double wallSeconds,
            PartialEpoch partial) {}

    /**
     * How far a stopped run got inside its unfinished epoch.
     *
     * @param epoch the epoch, 1-based
     * @param batches the training batches done
     * @param samples the training images those batches held
     * @param trainLoss the mean training loss over those batches
     * @param trainAccuracy the training accuracy over those images
     * @param seconds the training time spent on them
     */
    public record PartialEpoch(
            int epoch,
            int batches,
            long samples,
            double trainLoss,
            double trainAccuracy,
            double seconds) {}

    /**
     * An action on a path that may fail with an {@link IOException}.
     *
     * @param <T> the type of the value
     */
    @FunctionalInterface
    public interface IoConsumer<T> {
        /**
         * Performs the action.
         *
         * @param value the value
         * @throws IOException if the action fails
         */
        void accept(T value) throws IOException;
    }

    private final Path out;
    private final Path partial;

    private RunDirectory(Path out) {
        this.out = out.toAbsolutePath().normalize();
        this.partial = this.out.resolveSibling(this.out.getFileName() + PARTIAL);
    }

    /**
     * Prepares a new run's directory and records its settings there.
     *
     * @param out where the finished run goes; must not exist yet
     * @param config the run's settings
     * @return the run directory, with its partial directory created
     * @throws BadInputException if {@code out} exists or cannot be created
     */
    public static RunDirectory create(Path out, TrainConfig config) {
        RunDirectory dir = new RunDirectory(out);
        if (Files.exists(dir.out)) {
            throw new BadInputException(
                    "--out "
                            + out
                            + ": already exists; choose a new"
                            + " directory, or --resume a run that was interrupted");
        }
        if (Files.exists(dir.partial)) {
            throw new BadInputException(
                    "--out "
                            + out
                            + ": an interrupted run is in "
                            + dir.partial
                            + "; continue it with --resume "
                            + out
                            + ", or delete it");
        }
        try {
            Files.createDirectories(dir.partial);
        } catch (IOException e) {
            throw new BadInputException(
                    "--out " + out + ": cannot create directory " + dir.partial + ": " + e, e);
        }
        try {
            Files.writeString(
                    dir.partial.resolve(CONFIG), GSON.toJson(config), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BadInputException(
                    "--out " + out + ": cannot write to " + dir.partial + ": " + e, e);
        }
        return dir;
    }

    /**
     * Returns where a run goes when no {@code --out} is given: {@code runs/<name>-<time>}, the time
     * to the second, so runs started one after another do not collide.
     *
     * @param name what the run is, e.g. {@code resnet20}
     * @return the path, relative to the working directory
     */
    public static Path defaultOut(String name) {
        return Path.of(
                "runs",
                name
                        + "-"
                        + LocalDateTime.now()
                                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    /**
     * Finds an interrupted run.
     *
     * @param out the run's {@code --out}, or its {@code .partial} directory
     * @return the run directory
     * @throws BadInputException if there is no interrupted run there
     */
    public static RunDirectory resume(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString();
        Path finalPath =
                name.endsWith(PARTIAL)
                        ? out.resolveSibling(name.substring(0, name.length() - PARTIAL.length()))
                        : out;
        RunDirectory dir = new RunDirectory(finalPath);
        if (!Files.isDirectory(dir.partial)) {
            if (Files.exists(dir.out.resolve(SUMMARY))) {
                throw new BadInputException("--resume " + out + ": the run is already complete");
            }
            throw new BadInputException(
                    "--resume " + out + ": no interrupted run (" + dir.partial + " not found)");
        }
        return dir;
    }

    /**
     * Reads the settings an interrupted run was started with.
     *
     * @return the settings, validated
     * @throws BadInputException naming the file if they are missing or unreadable
     */
    public TrainConfig readConfig() {
        return read(partial.resolve(CONFIG), TrainConfig.class, "the run's settings");
    }

    /**
     * Returns where the finished run goes.
     *
     * @return the absolute path of {@code <out>}
     */
    public Path out() {
        return out;
    }

    /**
     * Returns where the run is written until it finishes.
     *
     * @return the absolute path of {@code <out>.partial}
     */
    public Path partial() {
        return partial;
    }

    /**
     * Reads the last checkpoint's state, if one was written.
     *
     * @return the state, or empty when the run had not written a checkpoint
     * @throws BadInputException naming the file if the state is unreadable or incomplete
     */
    public Optional<State> loadState() {
        Optional<Path> checkpoint = checkpointDirectory();
        if (checkpoint.isEmpty()) {
            return Optional.empty();
        }
        Path file = checkpoint.get().resolve(STATE);
        State state = read(file, State.class, "checkpoint");
        if (state.config() == null
                || state.epochs() == null
                || state.epochsDone() < 0
                || state.epochs().size() != state.epochsDone()) {
            throw new BadInputException("--resume: checkpoint " + file + " is incomplete");
        }
        return Optional.of(state);
    }

    /**
     * Replaces the checkpoint: writes the new one beside it, then swaps them by renames and only
     * then deletes the old one, so that a failure at any point leaves a complete checkpoint.
     *
     * @param writeModel saves the model into the directory it is given
     * @param state the state to record
     * @throws IOException if a write fails; the previous checkpoint is then intact
     */
    public void saveCheckpoint(IoConsumer<Path> writeModel, State state) throws IOException {
        Path fresh = partial.resolve(CHECKPOINT + ".new");
        deleteTree(fresh);
        Files.createDirectories(fresh);
        writeModel.accept(fresh);
        Files.writeString(fresh.resolve(STATE), GSON.toJson(state), StandardCharsets.UTF_8);
        Path current = partial.resolve(CHECKPOINT);
        Path old = partial.resolve(CHECKPOINT + OLD);
        if (Files.exists(current)) {
            deleteTree(old);
            move(current, old);
        }
        CheckpointHalt.at(CheckpointHalt.Point.BETWEEN_RENAMES);
        move(fresh, current);
        deleteTree(old);
        CheckpointHalt.at(CheckpointHalt.Point.AFTER_CHECKPOINT);
    }

    /**
     * Writes the results and renames the partial directory to its final name.
     *
     * @param summary the run's summary
     * @param writeModel saves the model into the directory it is given
     * @param drawCurves draws the curves into the PNG file it is given
     * @throws IOException if a file cannot be written; the checkpoint is then intact
     */
    public void finish(RunSummary summary, IoConsumer<Path> writeModel, IoConsumer<Path> drawCurves)
            throws IOException {
        Path model = partial.resolve(MODEL);
        Files.createDirectories(model);
        writeModel.accept(model);
        StringBuilder csv = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
        summary.epochs().forEach(e -> csv.append(e.toCsv()).append('\n'));
        Files.writeString(partial.resolve(METRICS), csv, StandardCharsets.UTF_8);
        drawCurves.accept(partial.resolve(CURVES));
        Files.writeString(partial.resolve(SUMMARY), GSON.toJson(summary), StandardCharsets.UTF_8);
        deleteTree(partial.resolve(CHECKPOINT));
        deleteTree(partial.resolve(CHECKPOINT + OLD));
        move(partial, out);
    }

    /**
     * Reads a finished run's summary.
     *
     * @param out the run's directory
     * @return the summary, or empty if the run has not finished
     * @throws BadInputException naming the file if it is unreadable
     */
    public static Optional<RunSummary> readSummary(Path out) {
        Path file = out.resolve(SUMMARY);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(read(file, RunSummary.class, "run summary"));
    }

    /**
     * Returns the folder of the last complete checkpoint, from which a resumed run restores its
     * model: {@code checkpoint}, or {@code checkpoint.old} when the run died between the two
     * renames of a checkpoint's swap.
     *
     * @return the folder, or empty when the run had not written a checkpoint
     */
    public Optional<Path> checkpointDirectory() {
        // Only a failed swap leaves the previous checkpoint under its old name alone.
        return Stream.of(CHECKPOINT, CHECKPOINT + OLD)
                .map(partial::resolve)
                .filter(Files::isDirectory)
                .findFirst();
    }

    private static <T> T read(Path file, Class<T> type, String what) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + what + " " + file + ": " + e, e);
        }
        T value;
        try {
            value = GSON.fromJson(json, type);
        } catch (RuntimeException e) {
            // Gson's exceptions for malformed or truncated JSON, and the settings' own checks.
            throw new BadInputException(
                    "cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        if (value == null) {
            throw new BadInputException("cannot read " + what + " " + file + ": it is empty");
        }
        return value;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder())
                    .forEach(
                            p -> {
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

    /**
     * Reads a {@link TrainConfig} or an {@link EpochMetrics} with a default for every field the
     * JSON lacks (files written before the field existed): the command line's default for a
     * setting, NaN (not measured) for a figure. Reports a value the constructor refuses as a {@link
     * JsonParseException} with its message.
     */
    private static final class DefaultSettings implements TypeAdapterFactory {

        /** {@inheritDoc} */
        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
            Object defaultValue;
            if (type.getRawType() == TrainConfig.class) {
                defaultValue = TrainConfig.builder().build();
            } else if (type.getRawType() == EpochMetrics.class) {
                defaultValue = EpochMetrics.builder().setEpoch(1).setStep(0).build();
            } else {
                return null;
            }
            TypeAdapter<T> delegate = gson.getDelegateAdapter(this, type);
            // Through text, leniently: the figures' defaults are NaN, which a strict tree refuses.
            StringWriter text = new StringWriter();
            try {
                JsonWriter writer = new JsonWriter(text);
                writer.setStrictness(Strictness.LENIENT);
                delegate.write(writer, (T) defaultValue);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            JsonObject defaults = JsonParser.parseString(text.toString()).getAsJsonObject();
            TypeAdapter<JsonElement> tree = gson.getAdapter(JsonElement.class);
            return new TypeAdapter<T>() {
                @Override
                public void write(JsonWriter writer, T value) throws IOException {
                    delegate.write(writer, value);
                }

                @Override
                public T read(JsonReader reader) throws IOException {
                    JsonElement json = tree.read(reader);
                    if (json == null || json.isJsonNull()) {
                        return null;
                    }
                    JsonObject merged = defaults.deepCopy();
                    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
                        merged.add(e.getKey(), e.getValue());
                    }
                    JsonReader lenient = new JsonReader(new StringReader(merged.toString()));
                    lenient.setStrictness(Strictness.LENIENT);
                    try {
                        return delegate.read(lenient);
                    } catch (RuntimeException e) {
                        // Gson wraps what the record's constructor throws.
                        Throwable cause =
                                e.getCause() instanceof IllegalArgumentException
                                                || e.getCause() instanceof NullPointerException
                                        ? e.getCause()
                                        : e;
                        throw new JsonParseException(cause.getMessage(), cause);
                    }
                }
            };
        }
    }
}
