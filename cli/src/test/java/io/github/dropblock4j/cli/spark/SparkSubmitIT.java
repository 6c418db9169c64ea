package io.github.dropblock4j.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.spark.SparkJvmOptions;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job as the README submits it to a cluster: Spark's own {@code SparkSubmit} starts the
 * packaged {@code dropblock4j-cli.jar} with {@code --class} and the application's other jars in
 * {@code --jars}. Runs after {@code package} (failsafe), on the jar and folders it made.
 */
class SparkSubmitIT {

    @Test
    void theJobJarStartsUnderSparkSubmit(@TempDir Path tmp)
            throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("dropblock4j.cli.jar"));
        Path lib = Path.of(System.getProperty("dropblock4j.cli.lib"));
        Path sparkLib = Path.of(System.getProperty("dropblock4j.cli.spark.lib"));
        String jars;
        try (Stream<Path> files = Files.list(lib)) {
            jars = files.map(Path::toString).sorted().collect(Collectors.joining(","));
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // What a Spark 3.3+ launcher passes by itself on Java 17.
        command.addAll(SparkJvmOptions.addOpens());
        // A Spark installation's class path: Spark, and the Scala, SLF4J and Apache Commons jars
        // it shares with the application.
        command.addAll(
                List.of(
                        "-cp",
                        sparkLib.resolve("*") + File.pathSeparator + lib.resolve("*"),
                        "org.apache.spark.deploy.SparkSubmit",
                        "--master",
                        "local[2]",
                        "--class",
                        "io.github.dropblock4j.cli.DropBlockCli",
                        "--jars",
                        jars,
                        jar.toString(),
                        "spark-train",
                        "--help"));
        Path log = tmp.resolve("spark-submit.log");
        Process process =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();

        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "spark-submit did not end");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("Usage: dropblock4j spark-train"), output);
        assertTrue(output.contains("--averaging-frequency"), output);
    }
}
