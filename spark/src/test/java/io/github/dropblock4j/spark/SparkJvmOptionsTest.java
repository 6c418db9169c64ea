package io.github.dropblock4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SparkJvmOptionsTest {

    @Test
    void listsSparksJava17PackagesOpenToTheClassPath() {
        List<String> options = SparkJvmOptions.addOpens();
        assertEquals(14, options.size());
        assertTrue(options.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"));
        assertTrue(
                options.contains("--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED"));
        assertTrue(
                options.stream()
                        .allMatch(o -> o.matches("--add-opens=[\\w.]+/[\\w.]+=ALL-UNNAMED")));
    }

    @Test
    void nothingIsMissingUnderTheBuildsTestOptions() {
        assertEquals(List.of(), SparkJvmOptions.missing());
        SparkJvmOptions.requireOpen();
    }

    @Test
    void everyOptionIsMissingForAModuleNothingIsOpenedTo() {
        Module logging = ModuleLayer.boot().findModule("java.logging").orElseThrow();
        assertEquals(SparkJvmOptions.addOpens(), SparkJvmOptions.missingFor(logging));
    }

    @Test
    void requireOpenNamesTheMissingOptions() {
        Module logging = ModuleLayer.boot().findModule("java.logging").orElseThrow();
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class, () -> SparkJvmOptions.requireOpen(logging));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "Spark on Java 17 needs these JVM options, missing here:"
                                        + " --add-opens=java.base/java.lang=ALL-UNNAMED "),
                e.getMessage());
    }
}
