package io.github.dropblock4j.cli.train;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

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
 *
 * <p>{@link #onSignalBeforeShutdown()} is for a command whose libraries stop themselves in their
 * own shutdown hooks, which the JVM runs side by side with this one: Spark stops its context there,
 * and a job that the context's stop cuts short writes no checkpoint. Its request takes over Ctrl-C
 * and SIGTERM instead, so that they only set the request and the JVM shuts down only when the
 * command returns; a second signal shuts it down at once, as the first would have.
 */
public final class StopRequest implements AutoCloseable {

    /** The exit code of a command stopped by Ctrl-C or SIGTERM, 128 + SIGINT by convention. */
    public static final int EXIT_CODE = 130;

    private static final long GRACE_MINUTES = 10;
    private static final List<String> SIGNALS = List.of("INT", "TERM");

    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread hook = new Thread(this::stopAndWait, "dropblock4j-stop");
    private final Map<String, SignalHandler> previous = new ConcurrentHashMap<>();

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
     * Starts listening for Ctrl-C and SIGTERM in place of the JVM's shutdown: the first signal sets
     * the request and nothing else; the second does what the signal did before.
     *
     * @return the request, not yet made; close it when the command is done, and exit with {@link
     *     #EXIT_CODE} if it was made
     */
    public static StopRequest onSignalBeforeShutdown() {
        StopRequest request = new StopRequest();
        for (String name : SIGNALS) {
            SignalHandler before;
            try {
                before =
                        Signal.handle(
                                new Signal(name),
                                s -> {
                                    if (request.requested.getAndSet(true)) {
                                        request.previous.get(name).handle(s);
                                    }
                                });
            } catch (IllegalArgumentException e) {
                // The process was started with the signal ignored (nohup, a background job).
                continue;
            }
            request.previous.put(name, before);
        }
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
        if (!previous.isEmpty()) {
            previous.forEach((name, handler) -> Signal.handle(new Signal(name), handler));
            previous.clear();
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook is waiting for this call.
        } finally {
            closed.countDown();
        }
    }
}
