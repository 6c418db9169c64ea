package io.github.dropblock4j.core.contract;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test support: runs a {@code main} of the test classpath in a fresh JVM, and fails with the
 * child's output when it does not exit 0 in time. The child inherits the test JVM's environment
 * (where the build names the engine's cache), waits for work passively in OpenMP (both engines'
 * native libraries use it, and spinning threads starve the other builds of a shared machine) and
 * logs at {@code warn}; the engine's system properties come with the JVM options.
 */
public final class ForkedJvm {

    private ForkedJvm() {}

    /**
     * Runs {@code mainClass} with {@code args} and waits for it.
     *
     * @param mainClass a class of the test classpath with a {@code main(String[])}
     * @param jvmOptions options for the child JVM, such as its heap size
     * @param timeout how long the child may run
     * @param log where the child's stdout and stderr go
     * @param args the child's arguments
     * @throws IOException if the child cannot be started
     * @throws InterruptedException if interrupted while waiting for the child
     */
    public static void run(
            Class<?> mainClass, List<String> jvmOptions, Duration timeout, Path log, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(
                List.of(
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        "-cp",
                        System.getProperty("java.class.path"),
                        mainClass.getName()));
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        boolean ended;
        try {
            ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            throw e;
        }
        if (!ended) {
            process.destroyForcibly().waitFor();
            fail(
                    mainClass.getSimpleName()
                            + " did not finish in "
                            + timeout
                            + "; output:\n"
                            + read(log));
        }
        if (process.exitValue() != 0) {
            fail(
                    mainClass.getSimpleName()
                            + " exited "
                            + process.exitValue()
                            + "; output:\n"
                            + read(log));
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
