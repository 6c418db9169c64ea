package io.github.dropblock4j.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.cli.ChildCli;
import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training does not grow native memory from epoch to epoch. */
class TrainingMemoryTest {

    // Allowed growth after warm-up: the allocator's pools and the JIT settle within a few tens of
    // MiB, while keeping one batch's activations per step (about 3 MiB a layer at batch 64) would
    // add hundreds of MiB over an epoch's 32 steps.
    private static final double MAX_GROWTH_MB = 50;

    @Test
    void residentMemoryIsFlatAcrossEpochs(@TempDir Path tmp) throws Exception {
        // A fixed, pre-touched heap, so that the resident set measures native memory: a growing
        // Java heap (the collector taking more of -Xmx as it goes) would count otherwise.
        Path out = tmp.resolve("run");
        Process child =
                ChildCli.start(
                        tmp.resolve("child.log"),
                        List.of("-Xms768m", "-Xmx768m", "-XX:+AlwaysPreTouch"),
                        "train",
                        "--out",
                        out.toString(),
                        "--epochs",
                        "3",
                        "--train-limit",
                        "2000",
                        "--test-limit",
                        "500");
        assertTrue(child.waitFor(10, TimeUnit.MINUTES), "training did not finish");
        assertEquals(0, child.exitValue(), Files.readString(tmp.resolve("child.log")));
        List<EpochMetrics> epochs = RunDirectory.readSummary(out).orElseThrow().epochs();
        // Epoch 1 is the warm-up (engine, allocator pools, JIT); later epochs must not add to it.
        double afterWarmUp = epochs.get(0).residentMb();
        double last = epochs.get(2).residentMb();
        assertTrue(afterWarmUp > 0, "VmRSS not read: " + afterWarmUp);
        assertTrue(
                last - afterWarmUp <= MAX_GROWTH_MB,
                "resident memory grew from " + afterWarmUp + " to " + last + " MiB");
    }
}
