package io.github.dropblock4j.cli.run;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-only fault: ends the JVM at once, as {@code kill -9} would, at a fixed point of the N-th
 * checkpoint this process writes, so that the kill and resume tests are deterministic instead of
 * polling files and racing a signal. Off unless the system property {@value #PROPERTY} is set:
 * {@code N} halts right after the N-th checkpoint is in place; {@code N:between-renames} halts
 * inside the N-th swap, after the last checkpoint was renamed to {@code checkpoint.old} and before
 * the new one took its name. The JVM halts with {@value #EXIT_CODE} (128 + SIGKILL) and runs no
 * shutdown hook. Thread safe.
 */
final class CheckpointHalt {

    /** The system property that arms the fault. */
    static final String PROPERTY = "dropblock4j.test.halt-after-checkpoint";

    /** The exit status of a halted JVM, that of a process killed with SIGKILL. */
    static final int EXIT_CODE = 137;

    private static final String BETWEEN_RENAMES = ":between-renames";
    private static final AtomicInteger WRITTEN = new AtomicInteger();

    /** Where in a checkpoint's swap the fault can strike. */
    enum Point {
        /**
         * After {@code checkpoint} became {@code checkpoint.old}, before the new one is renamed.
         */
        BETWEEN_RENAMES,
        /** After the new checkpoint is in place and the old one deleted. */
        AFTER_CHECKPOINT
    }

    private CheckpointHalt() {}

    /**
     * Halts the JVM if the fault is armed for this point of the checkpoint being written.
     *
     * @param point where the swap is
     * @throws IllegalArgumentException naming the property if its value is malformed
     */
    static void at(Point point) {
        String armed = System.getProperty(PROPERTY);
        if (armed == null) {
            return;
        }
        boolean betweenRenames = armed.endsWith(BETWEEN_RENAMES);
        int n;
        try {
            n =
                    Integer.parseInt(
                            betweenRenames
                                    ? armed.substring(0, armed.length() - BETWEEN_RENAMES.length())
                                    : armed);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    PROPERTY + " must be N or N" + BETWEEN_RENAMES + ", got " + armed, e);
        }
        // The swap's first point counts the checkpoint; the second sees the same count.
        int checkpoint = point == Point.BETWEEN_RENAMES ? WRITTEN.incrementAndGet() : WRITTEN.get();
        if (checkpoint == n && betweenRenames == (point == Point.BETWEEN_RENAMES)) {
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }
}
