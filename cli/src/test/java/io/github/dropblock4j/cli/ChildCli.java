package io.github.dropblock4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test support: starts the command line in a separate JVM, as the launcher would. */
public final class ChildCli {

    private ChildCli() {}

    /**
     * Starts {@code dropblock4j} with the given JVM options and arguments.
     *
     * @param log where the child's output goes
     * @param jvmOptions extra JVM options, e.g. a fixed heap
     * @param args the command-line arguments
     * @return the running process
     */
    public static Process start(Path log, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(
                List.of(
                        "-Dai.djl.offline=true",
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                        "-Djava.awt.headless=true",
                        "-cp",
                        System.getProperty("java.class.path"),
                        DropBlockCli.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return builder.start();
    }
}
