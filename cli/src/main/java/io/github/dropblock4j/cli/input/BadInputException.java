package io.github.dropblock4j.cli.input;

/**
 * Bad input: a missing, truncated or malformed file or directory, one that disagrees with another,
 * or an option value that the data rules out. The message names the file or option and what was
 * wrong; the command exits with code 2, as for a bad option.
 */
public final class BadInputException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was wrong, naming the file or option and the value seen
     */
    public BadInputException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what was wrong, naming the file or option and the value seen
     * @param cause the underlying error
     */
    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
