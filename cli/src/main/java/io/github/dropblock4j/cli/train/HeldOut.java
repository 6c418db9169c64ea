package io.github.dropblock4j.cli.train;

/** The image sets a run measures in evaluation mode, never trained on. */
public enum HeldOut {
    /** The validation split held out of the training images ({@code --val-split}). */
    VALIDATION,
    /** The test images. */
    TEST
}
