package io.github.dropblock4j.dl4j;

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
 * child's output when it does not exit 0 in time.
 */
final class ForkedJvm {

    private ForkedJvm() {}

    /**
     * Runs {@code mainClass} with {@code args} and waits for it.
     *
     * @param mainClass a class of the test classpath with a {@code main(String[])}
     * @param jvmOptions options for the child JVM, such as its heap size
     * @param timeout how long the child may run
     * @param log where the child's stdout and stderr go
     * @param args the child's arguments
     */
    static void run(
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
        Process process =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
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
