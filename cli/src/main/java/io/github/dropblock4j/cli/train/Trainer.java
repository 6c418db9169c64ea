package io.github.dropblock4j.cli.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one framework supplies to the epoch loop of {@link TrainingRun}: the network and its
 * optimizer built from the {@link TrainingRecipe}, one batch trained or evaluated at a time, and
 * the model saved and restored. Everything else (epochs, resume, stop, divergence, checkpoints,
 * metrics, progress) is the loop's, the same for every framework. Implementations live in a package
 * named after their framework and are made by {@link TrainerFactory}.
 *
 * <p>The loop calls, in this order: {@link #start} once; then per epoch {@link #startEpoch}, {@link
 * #trainBatch} with increasing indices, {@link #evaluateBatch} per held-out set with increasing
 * indices, {@link #endEpoch} and {@link #realisedDropRate}; {@link #save} between epochs or after a
 * stop; with {@code --recalibrate-bn}, after the last epoch, {@link #recalibrateBatchNorm} and the
 * held-out sets once more; {@link #close} at the end. Not thread safe.
 */
public interface Trainer extends AutoCloseable {

    /**
     * Builds the network: from the run's seed, or from a checkpoint that {@link #save} wrote.
     *
     * @param checkpoint the folder to restore from; empty for a new run
     * @throws io.github.dropblock4j.cli.input.BadInputException naming the file if the checkpoint's
     *     model is missing or unreadable
     */
    void start(Optional<Path> checkpoint);

    /**
     * Describes in one line how the framework runs the started network (its engine, or whether its
     * fast native kernels are on), for the run's console.
     *
     * @return the line
     */
    String describe();

    /**
     * Returns the training batches of every epoch, the steps an epoch advances.
     *
     * @return at least 1
     */
    int trainBatches();

    /**
     * Starts an epoch: reseeds the framework's generators from {@code TrainConfig#epochSeed(epoch)}
     * and draws the epoch's order and augmentation, which then do not depend on what came before.
     *
     * @param epoch the epoch, 1-based
     */
    void startEpoch(int epoch);

    /**
     * Trains one batch of the epoch, one optimizer step. Batches before {@code index} that this
     * epoch has not trained are passed over untrained (a run resumed inside the epoch).
     *
     * @param index the batch, in [0, {@link #trainBatches()}), larger than the last one trained
     * @return the batch's loss and accuracy in the training forward, regularizer on
     */
    BatchResult trainBatch(int index);

    /**
     * Returns the batches of a held-out set.
     *
     * @param set the set
     * @return at least 1
     */
    int heldOutBatches(HeldOut set);

    /**
     * Runs one batch of a held-out set through the network in evaluation mode.
     *
     * @param set the set
     * @param index the batch, in [0, {@link #heldOutBatches}), counting from 0 for every pass
     * @return the batch's loss and accuracy
     */
    BatchResult evaluateBatch(HeldOut set, int index);

    /**
     * Returns the realised drop rate of the epoch's training batches that this process trained: the
     * units the training forwards of every DropBlock zeroed over the units they saw.
     *
     * @return in [0, 1]; 0 for a network without DropBlock; NaN, not measured, where this process
     *     trained none of the epoch's batches (an epoch resumed after its last batch)
     */
    double realisedDropRate();

    /**
     * Re-estimates every batch norm's running statistics from the last epoch's training batches
     * with every DropBlock off, as the average over the batches (the library's {@code
     * BatchNormRecalibration}). No weight changes; the held-out batches evaluated after it see the
     * recalibrated network, and {@link #save} saves it.
     */
    void recalibrateBatchNorm();

    /** Ends the epoch: frees its batches and tells the framework's epoch listeners. */
    void endEpoch();

    /**
     * Tells whether {@link #trainBatch} reports the accuracy of the training forward; when it does
     * not, its results count no right answers and the epoch's training accuracy is not measured.
     *
     * @return true by default
     */
    default boolean reportsTrainAccuracy() {
        return true;
    }

    /**
     * Returns the accuracy over all training images in evaluation mode, measured by {@link
     * #endEpoch}, for a framework that cannot report that of its training steps.
     *
     * @return the accuracy; NaN by default, not measured
     */
    default double trainEvalAccuracy() {
        return Double.NaN;
    }

    /**
     * Returns the training images an epoch trains on, when it is not every training image (a
     * trainer that leaves out what does not fill a whole round).
     *
     * @return the images; empty by default, every training image
     */
    default OptionalLong imagesPerEpoch() {
        return OptionalLong.empty();
    }

    /**
     * Says where the run trains, for the title of its curves after the model and the regularizer.
     *
     * @return e.g. {@code "Spark local[2]"}; empty by default, the framework's name (none for DJL)
     */
    default Optional<String> where() {
        return Optional.empty();
    }

    /**
     * Saves the model, with what a resumed run needs to continue its schedules, into a folder.
     *
     * @param folder an existing, empty folder
     * @throws IOException if it cannot be written
     */
    void save(Path folder) throws IOException;

    /**
     * Returns the training steps done over the run, restored ones included.
     *
     * @return the steps
     */
    int stepsDone();

    /**
     * Returns the scheduled drop probability of the last step trained, 0 for a network without
     * DropBlock.
     *
     * @return the drop probability, before each block's per-stage weight
     */
    double dropProb();

    /**
     * Returns the learning rate of the last step trained.
     *
     * @return the learning rate
     */
    double learningRate();

    /** Frees the network and the framework's native memory. */
    @Override
    void close();
}
