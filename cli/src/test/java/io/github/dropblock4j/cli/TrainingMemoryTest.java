package io.github.dropblock4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training does not grow native memory from epoch to epoch. */
class TrainingMemoryTest {

    // The bound on resident-memory growth after warm-up.
    private static final double MAX_GROWTH_MB = 50;

    @Test
    void residentMemoryIsFlatAcrossEpochs(@TempDir Path tmp) {
        CliRunner.Result r = CliRunner.run("train", "--out", tmp.resolve("run").toString(), "--epochs", "3",
                "--train-limit", "2000", "--test-limit", "500");
        assertEquals(0, r.exitCode(), r.err());
        List<EpochMetrics> epochs = RunDirectory.readSummary(tmp.resolve("run")).orElseThrow().epochs();
        // Epoch 1 is the warm-up (engine, allocator pools, JIT); later epochs must not add to it.
        double afterWarmUp = epochs.get(0).residentMb();
        double last = epochs.get(2).residentMb();
        assertTrue(afterWarmUp > 0, "VmRSS not read: " + afterWarmUp);
        assertTrue(last - afterWarmUp <= MAX_GROWTH_MB,
                "resident memory grew from " + afterWarmUp + " to " + last + " MiB");
    }
}
