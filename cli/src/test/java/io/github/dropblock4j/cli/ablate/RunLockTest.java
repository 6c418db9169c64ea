package io.github.dropblock4j.cli.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {

    @Test
    void secondAcquireFailsUntilTheFirstIsReleased(@TempDir Path tmp) throws IOException {
        Path run = tmp.resolve("none-seed1");
        Optional<RunLock> first = RunLock.tryAcquire(run);
        assertTrue(first.isPresent());
        assertTrue(RunLock.tryAcquire(run).isEmpty(), "held twice");
        assertTrue(
                RunLock.tryAcquire(tmp.resolve("none-seed2")).isPresent(), "another run is free");
        first.get().close();
        try (RunLock again = RunLock.tryAcquire(run).orElseThrow()) {
            assertEquals(tmp.resolve("none-seed1.lock"), RunLock.lockFile(run));
        }
    }

    @Test
    void aRunInAFolderNotYetMadeGetsItsFolderWithItsLock(@TempDir Path tmp) throws IOException {
        Path run = tmp.resolve("runs").resolve("select").resolve("fitted-p0.1-seed1");
        try (RunLock lock = RunLock.tryAcquire(run).orElseThrow()) {
            assertTrue(
                    Files.exists(
                            tmp.resolve("runs")
                                    .resolve("select")
                                    .resolve("fitted-p0.1-seed1.lock")));
        }
    }

    @Test
    void lockHeldByAnotherProcessIsBusyAndFreedWhenItDies(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("dropblock-p0.1-seed1");
        Path ready = tmp.resolve("ready");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder =
                new ProcessBuilder(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                RunLockHolder.class.getName(),
                                run.toString(),
                                ready.toString())
                        .inheritIO()
                        .start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(ready) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(ready), "the other process took the lock");
            assertTrue(RunLock.tryAcquire(run).isEmpty(), "a lock held by another process is busy");
        } finally {
            holder.destroyForcibly().waitFor();
        }
        // Killed while holding it: the system has released the lock.
        try (RunLock taken = RunLock.tryAcquire(run).orElseThrow()) {
            assertTrue(Files.exists(RunLock.lockFile(run)));
        }
    }

    /** A separate process that takes a run's lock, says so, and holds it until it is killed. */
    static final class RunLockHolder {
        public static void main(String[] args) throws Exception {
            Optional<RunLock> lock = RunLock.tryAcquire(Path.of(args[0]));
            if (lock.isEmpty()) {
                System.exit(3);
            }
            Files.writeString(Path.of(args[1]), "locked");
            Thread.sleep(120_000);
            lock.get().close();
        }
    }
}
