package io.github.dropblock4j.cli.run;

/**
 * The loss and accuracy of the held-out sets, measured in evaluation mode at one point of a run:
 * e.g. after the batch norms were recalibrated ({@code --recalibrate-bn}).
 *
 * @param validationLoss the mean validation loss; NaN without a validation set
 * @param validationAccuracy the validation accuracy; NaN without a validation set
 * @param testLoss the mean test loss
 * @param testAccuracy the test accuracy
 */
public record HeldOutFigures(
        double validationLoss, double validationAccuracy, double testLoss, double testAccuracy) {}
