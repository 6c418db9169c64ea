package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The application's packages, read from the imports of its main sources. */
class PackageDependenciesTest {

    private static final Path SOURCES = Path.of("src/main/java/io/github/dropblock4j/cli");
    private static final Pattern ANY_IMPORT =
            Pattern.compile("(?m)^import (?:static )?([\\w.]+?)(?:\\.\\*)?;");
    // The frameworks and this project's adapters of them.
    private static final List<String> FRAMEWORKS =
            List.of(
                    "ai.djl.",
                    "org.nd4j.",
                    "org.deeplearning4j.",
                    "io.github.dropblock4j.djl.",
                    "io.github.dropblock4j.dl4j.",
                    "io.github.dropblock4j.spark.");
    // The packages no framework may enter: the run directory, the data and the epoch protocol.
    private static final Set<String> NEUTRAL = Set.of("run", "data", "train", "input");
    private static final String TRAIN = "io.github.dropblock4j.cli.train.";
    private static final Pattern IMPORT =
            Pattern.compile(
                    "(?m)^import (?:static )?io\\.github\\.dropblock4j\\.cli\\.([a-z]+)\\.");

    /** Maps each package (by its last name, "cli" for the root) to those it imports. */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path dir = SOURCES.relativize(file.getParent());
                String from = dir.toString().isEmpty() ? "cli" : dir.toString();
                Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        to.add(m.group(1));
                    }
                }
            }
        }
        return graph;
    }

    @Test
    void featurePackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> graph = dependencies();
        assertTrue(
                graph.keySet()
                        .containsAll(
                                List.of(
                                        "cli", "input", "run", "train", "ablate", "figure", "data",
                                        "bench", "spark")),
                graph.toString());
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>(List.of(start));
            assertEquals(
                    List.of(),
                    cycle(graph, start, start, path, new TreeSet<>()),
                    "dependencies: " + graph);
        }
    }

    @Test
    void nothingDependsOnTheRootPackageAndTheInputPackageOnNothing() throws IOException {
        Map<String, Set<String>> graph = dependencies();
        graph.forEach((from, to) -> assertTrue(!to.contains("cli"), from + " imports the root"));
        assertEquals(Set.of(), graph.get("input"));
    }

    /** Maps each main source file to its package (e.g. "train.djl", "cli" for the root). */
    private static Map<Path, String> packages() throws IOException {
        Map<Path, String> packages = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String dir = SOURCES.relativize(file.getParent()).toString();
                packages.put(file, dir.isEmpty() ? "cli" : dir.replace('/', '.'));
            }
        }
        return packages;
    }

    /** The names a file imports, static imports by their class. */
    private static List<String> imports(Path file) throws IOException {
        Matcher m = ANY_IMPORT.matcher(Files.readString(file));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static boolean isFramework(String name) {
        return FRAMEWORKS.stream().anyMatch(name::startsWith);
    }

    @Test
    void theNeutralLayersImportNoFramework() throws IOException {
        List<String> found = new ArrayList<>();
        for (Map.Entry<Path, String> e : packages().entrySet()) {
            if (NEUTRAL.contains(e.getValue())) {
                for (String name : imports(e.getKey())) {
                    if (isFramework(name)) {
                        found.add(e.getKey().getFileName() + " imports " + name);
                    }
                }
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    void theFrameworkSidesNeverImportEachOtherAndOnlyTheFactoryNamesThem() throws IOException {
        List<String> found = new ArrayList<>();
        for (Map.Entry<Path, String> e : packages().entrySet()) {
            String file = e.getKey().getFileName().toString();
            for (String name : imports(e.getKey())) {
                boolean djlSide = name.startsWith(TRAIN + "djl.");
                boolean dl4jSide = name.startsWith(TRAIN + "dl4j.");
                if (e.getValue().equals("train.djl") && dl4jSide
                        || e.getValue().equals("train.dl4j") && djlSide
                        || e.getValue().equals("train")
                                && (djlSide || dl4jSide)
                                && !file.equals("TrainerFactory.java")) {
                    found.add(file + " in " + e.getValue() + " imports " + name);
                }
            }
        }
        assertEquals(List.of(), found);
        // The rules are not vacuous: each side exists and the factory names both.
        Path factory = SOURCES.resolve("train").resolve("TrainerFactory.java");
        assertTrue(imports(factory).stream().anyMatch(n -> n.startsWith(TRAIN + "djl.")));
        assertTrue(imports(factory).stream().anyMatch(n -> n.startsWith(TRAIN + "dl4j.")));
        assertTrue(
                imports(SOURCES.resolve("train").resolve("djl").resolve("DjlTrainer.java")).stream()
                        .anyMatch(n -> n.startsWith("ai.djl.")));
    }

    /** Returns a path from start back to target, or an empty list if there is none. */
    private static List<String> cycle(
            Map<String, Set<String>> graph,
            String at,
            String target,
            List<String> path,
            Set<String> seen) {
        for (String next : graph.getOrDefault(at, Set.of())) {
            if (next.equals(target)) {
                List<String> found = new ArrayList<>(path);
                found.add(next);
                return found;
            }
            if (seen.add(next)) {
                path.add(next);
                List<String> found = cycle(graph, next, target, path, seen);
                if (!found.isEmpty()) {
                    return found;
                }
                path.remove(path.size() - 1);
            }
        }
        return List.of();
    }
}
