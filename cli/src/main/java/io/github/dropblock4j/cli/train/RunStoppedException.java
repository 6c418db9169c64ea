package io.github.dropblock4j.cli.train;

/**
 * A command stopped on request ({@link StopRequest}): a training run after writing a checkpoint
 * from which {@code --resume} continues it, or an ablation between its runs. The message says where
 * it stopped.
 */
public final class RunStoppedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message where the command stopped and, for a training run, where its checkpoint is
     */
    public RunStoppedException(String message) {
        super(message);
    }
}
