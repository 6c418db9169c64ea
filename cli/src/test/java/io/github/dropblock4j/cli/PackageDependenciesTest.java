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
                                        "cli", "input", "run", "train", "ablate", "figure",
                                        "data")),
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
