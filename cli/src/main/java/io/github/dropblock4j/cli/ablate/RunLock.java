package io.github.dropblock4j.cli.ablate;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * An exclusive lock on one run of an ablation, so that two {@code ablate} processes sharing an
 * output directory never train or write the same run twice. It is an operating-system lock on the
 * file {@code <run>.lock} beside the run's directory: the system releases it when its process ends,
 * even by {@code kill -9}, so a run whose process died can be taken over and resumed. The lock file
 * itself stays; it holds nothing. Not thread safe: one thread of one process holds it.
 */
final class RunLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of a run if nobody holds it.
     *
     * @param runDir the run's directory (it need not exist)
     * @return the lock, or empty if another process (or this one) holds it
     * @throws IOException if the lock file cannot be opened
     */
    static Optional<RunLock> tryAcquire(Path runDir) throws IOException {
        Path file = lockFile(runDir);
        // Selection runs of their own live one folder down, created with their first lock.
        Files.createDirectories(file.toAbsolutePath().getParent());
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return Optional.of(new RunLock(channel, lock));
            }
        } catch (OverlappingFileLockException e) {
            // Held by this process already: as busy as if another process held it.
        }
        channel.close();
        return Optional.empty();
    }

    /**
     * Returns the lock file of a run.
     *
     * @param runDir the run's directory
     * @return {@code <runDir>.lock}
     */
    static Path lockFile(Path runDir) {
        return runDir.resolveSibling(runDir.getFileName() + ".lock");
    }

    /** Releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
