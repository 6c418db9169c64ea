package io.github.dropblock4j.spark;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JVM options Spark needs on Java 17, and a check that they are in effect.
 *
 * <p>Spark reaches into JDK internals (direct buffers, {@code sun.nio.ch}, reflection on {@code
 * java.lang}); on Java 17 the module system refuses unless those packages are opened, and a
 * SparkContext fails at start with {@code IllegalAccessError} or {@code
 * InaccessibleObjectException}. Spark 3.3 and later add the options in their own launcher; a JVM
 * started any other way (tests, {@code java -cp}, Spark 3.1 and 3.2) must pass them itself. They
 * live in one file, {@code add-opens.args} next to this class, one option a line, which is also a
 * {@code java @argfile}: the build's tests and the {@code dropblock4j} launcher pass it as such.
 */
public final class SparkJvmOptions {

    private static final String RESOURCE = "add-opens.args";
    private static final String PREFIX = "--add-opens=";
    private static final String TARGET = "=ALL-UNNAMED";

    private SparkJvmOptions() {}

    /**
     * Returns the {@code --add-opens} options Spark needs, in the form {@code
     * --add-opens=java.base/java.nio=ALL-UNNAMED}.
     *
     * @return the options, in a fixed order
     */
    public static List<String> addOpens() {
        List<String> options = new ArrayList<>();
        try (InputStream in = SparkJvmOptions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            BufferedReader reader =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank()) {
                    options.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return options;
    }

    /**
     * Returns the options of {@link #addOpens()} that this JVM lacks: those whose package is not
     * open to the class path. A module this runtime does not have needs no option.
     *
     * @return the missing options, empty when Spark can start
     */
    public static List<String> missing() {
        return missingFor(SparkJvmOptions.class.getModule());
    }

    /**
     * Throws if this JVM lacks an option of {@link #addOpens()}, naming every missing one, so that
     * a Spark job fails with the fix instead of a stack trace from deep inside Spark.
     *
     * @throws IllegalStateException if an option is missing
     */
    public static void requireOpen() {
        requireOpen(SparkJvmOptions.class.getModule());
    }

    // Package-private, as missingFor.
    static void requireOpen(Module reader) {
        List<String> missing = missingFor(reader);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(
                    "Spark on Java "
                            + Runtime.version().feature()
                            + " needs these JVM options, missing here: "
                            + String.join(" ", missing));
        }
    }

    // Package-private so that a test can ask about a module nothing is opened to.
    static List<String> missingFor(Module reader) {
        List<String> missing = new ArrayList<>();
        for (String option : addOpens()) {
            if (!option.startsWith(PREFIX) || !option.endsWith(TARGET) || !option.contains("/")) {
                throw new IllegalStateException(
                        RESOURCE
                                + " must hold --add-opens=MODULE/PACKAGE=ALL-UNNAMED lines, got "
                                + option);
            }
            String modulePackage =
                    option.substring(PREFIX.length(), option.length() - TARGET.length());
            int slash = modulePackage.indexOf('/');
            Optional<Module> module =
                    ModuleLayer.boot().findModule(modulePackage.substring(0, slash));
            String packageName = modulePackage.substring(slash + 1);
            if (module.isPresent() && !module.get().isOpen(packageName, reader)) {
                missing.add(option);
            }
        }
        return missing;
    }
}
