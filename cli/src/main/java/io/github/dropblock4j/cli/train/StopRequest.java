package io.github.dropblock4j.cli.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C or SIGTERM turned into a request that training stop at the next batch boundary, so that a
 * stopped run keeps the work of every finished batch.
 *
 * <p>On either signal the JVM runs its shutdown hooks and exits when they return. The hook this
 * class installs sets the request, waits until the command has written its checkpoint, printed how
 * to resume and {@linkplain #close() closed} this request, and then ends the process with {@link
 * #EXIT_CODE}. If the command does not get there within {@value #GRACE_MINUTES} minutes (a batch
 * stuck in the engine), the process ends anyway, with its last checkpoint intact. Safe to read from
 * any thread; one command owns it.
 */
public final class StopRequest implements AutoCloseable {

    /** The exit code of a command stopped by Ctrl-C or SIGTERM, 128 + SIGINT by convention. */
    public static final int EXIT_CODE = 130;

    private static final long GRACE_MINUTES = 10;

    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread hook = new Thread(this::stopAndWait, "dropblock4j-stop");

    private StopRequest() {}

    /**
     * Starts listening for Ctrl-C and SIGTERM.
     *
     * @return the request, not yet made; close it when the command is done
     */
    public static StopRequest onSignal() {
        StopRequest request = new StopRequest();
        Runtime.getRuntime().addShutdownHook(request.hook);
        return request;
    }

    /**
     * Tells whether a stop was requested.
     *
     * @return true after Ctrl-C or SIGTERM
     */
    public boolean isRequested() {
        return requested.get();
    }

    private void stopAndWait() {
        requested.set(true);
        try {
            closed.await(GRACE_MINUTES, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(EXIT_CODE);
    }

    /** Stops listening; after a signal, lets the process end with {@link #EXIT_CODE}. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook is waiting for this call.
        } finally {
            closed.countDown();
        }
    }
}
