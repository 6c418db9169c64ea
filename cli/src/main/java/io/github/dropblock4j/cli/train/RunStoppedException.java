package io.github.dropblock4j.cli.train;

/**
 * A training run stopped on request ({@link StopRequest}) after writing a checkpoint from which
 * {@code --resume} continues it. The message says where it stopped.
 */
public final class RunStoppedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message where the run stopped and where its checkpoint is
     */
    RunStoppedException(String message) {
        super(message);
    }
}
