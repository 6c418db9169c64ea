package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code dropblock4j} launcher at the repository's root, on the jar and folders that {@code
 * package} made (failsafe runs after it). ResNet-50's backward pass kills PyTorch 2.7.1 with SIGFPE
 * in oneDNN on AVX2 and AVX-512 kernels (docs/known-issues.md); the launcher caps oneDNN at AVX for
 * the bottleneck depths, so that a ResNet-50 trains.
 */
class LauncherIT {

    @Test
    void launcherTrainsAResNet50(@TempDir Path dir) throws Exception {
        // Failsafe runs in the cli module's directory.
        Path root = Path.of("").toAbsolutePath().getParent();
        Path launcher = root.resolve("dropblock4j");
        assertTrue(Files.isExecutable(launcher), launcher + " must be executable");
        // The jar under test is the one `package` just made: mark it built, so that the launcher
        // runs it instead of calling Maven from inside Maven.
        Files.writeString(root.resolve("cli/target/.launcher-built"), "");
        Path out = dir.resolve("run");
        Path log = dir.resolve("launcher.log");
        ProcessBuilder builder =
                new ProcessBuilder(
                                List.of(
                                        launcher.toString(),
                                        "train",
                                        "--model",
                                        "resnet50",
                                        "--epochs",
                                        "1",
                                        "--train-limit",
                                        "20",
                                        "--test-limit",
                                        "20",
                                        "--batch-size",
                                        "10",
                                        "--out",
                                        out.toString()))
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
        builder.environment().remove("ONEDNN_MAX_CPU_ISA");
        Process process = builder.start();

        boolean ended = process.waitFor(10, TimeUnit.MINUTES);
        if (!ended) {
            process.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(ended, "the launcher did not end in 10 minutes:\n" + output);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("ONEDNN_MAX_CPU_ISA=AVX for resnet50"), output);
        assertTrue(Files.isRegularFile(out.resolve("summary.json")), output);
    }
}
