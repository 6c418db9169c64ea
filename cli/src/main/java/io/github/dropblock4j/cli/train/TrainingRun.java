package io.github.dropblock4j.cli.train;

import io.github.dropblock4j.cli.run.EpochMetrics;
import io.github.dropblock4j.cli.run.Framework;
import io.github.dropblock4j.cli.run.HeldOutFigures;
import io.github.dropblock4j.cli.run.RunDirectory;
import io.github.dropblock4j.cli.run.RunDirectory.PartialEpoch;
import io.github.dropblock4j.cli.run.RunSummary;
import io.github.dropblock4j.cli.run.TrainConfig;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The epoch loop of {@code train} and {@code ablate}, the same for every framework: it drives a
 * {@link Trainer} (made by {@link TrainerFactory} for the config's framework) and writes the run
 * directory through {@link TrainingHistory}.
 *
 * <p>Per epoch: the trainer reseeds from {@link TrainConfig#epochSeed} and trains its batches; the
 * loop stops the run at the first step whose loss is not finite ({@link RunDivergedException});
 * after the last batch it measures the validation set (when there is one) and the test set (every
 * {@code --test-every} epochs and after the last), adds the epoch's {@link EpochMetrics} row and
 * writes a checkpoint. The training loss and accuracy are those of the training steps themselves
 * (regularizer on), per image over the epoch.
 *
 * <p>With {@code --recalibrate-bn}, after the last epoch's checkpoint, the trainer recalibrates its
 * batch norms ({@link Trainer#recalibrateBatchNorm()}) and the loop measures the held-out sets
 * again: the summary holds the figures of the same trained weights before and after. A run stopped
 * there, or resumed from the last checkpoint, recalibrates the checkpoint's model afresh.
 *
 * <p>A stop request ({@link StopRequest}) stops the run after the current batch, with a checkpoint
 * inside the epoch, or after the current held-out batch. A run resumed from an epoch's end redoes
 * nothing; one resumed from inside an epoch passes over the batches done, in the same order, and
 * trains the rest with other masks. Not thread safe.
 */
public final class TrainingRun {

    private final TrainConfig config;
    private final ImageTrainingData data;
    private final RunConsole console;
    private final Supplier<Trainer> trainers;

    /**
     * Prepares a run on the config's framework.
     *
     * @param config the run's settings, the framework among them
     * @param data the images
     * @param console where the run reports; its stop request stops the run after the current batch
     */
    public TrainingRun(TrainConfig config, ImageTrainingData data, RunConsole console) {
        this(config, data, console, () -> TrainerFactory.create(config, data));
    }

    /**
     * Prepares a run on a given trainer.
     *
     * @param config the run's settings
     * @param data the images
     * @param console where the run reports
     * @param trainers makes the trainer when the run starts; the run closes it
     */
    public TrainingRun(
            TrainConfig config,
            ImageTrainingData data,
            RunConsole console,
            Supplier<Trainer> trainers) {
        this.config = config;
        this.data = data;
        this.console = console;
        this.trainers = trainers;
    }

    /**
     * Trains, from the last checkpoint of {@code dir} if there is one, and writes the results.
     *
     * @param dir the run directory
     * @return the summary of the finished run
     * @throws IOException if a result or checkpoint cannot be written
     * @throws RunStoppedException if a stop was requested; a checkpoint is written first
     * @throws RunDivergedException at the first step whose loss is not finite
     */
    public RunSummary run(RunDirectory dir) throws IOException {
        TrainingHistory history = new TrainingHistory(config, dir, console.out());
        try (Trainer trainer = trainers.get()) {
            trainer.start(dir.checkpointDirectory());
            console.out().println(trainer.describe());
            for (int epoch = history.firstEpoch(); epoch <= config.epochs(); epoch++) {
                history.startEpoch();
                trainer.startEpoch(epoch);
                PartialEpoch trained = trainEpoch(trainer, epoch, history);
                Optional<BatchResult> validation = Optional.of(BatchResult.NONE);
                Optional<BatchResult> test = Optional.of(BatchResult.NONE);
                if (trained.batches() == trainer.trainBatches()) {
                    if (data.validationSize() > 0) {
                        validation = heldOut(trainer, HeldOut.VALIDATION);
                    }
                    if (validation.isPresent()
                            && (epoch % config.testEvery() == 0 || epoch == config.epochs())) {
                        test = heldOut(trainer, HeldOut.TEST);
                    }
                }
                if (trained.batches() < trainer.trainBatches()
                        || validation.isEmpty()
                        || test.isEmpty()) {
                    throw history.stopInside(trainer::save, trained, trainer.stepsDone());
                }
                trainer.endEpoch();
                history.endEpoch(
                        EpochMetrics.builder()
                                .setEpoch(epoch)
                                .setStep(trainer.stepsDone())
                                .optTrain(
                                        trained.trainLoss(),
                                        trainer.reportsTrainAccuracy()
                                                ? trained.trainAccuracy()
                                                : Double.NaN)
                                .optTrainEvalAccuracy(trainer.trainEvalAccuracy())
                                .optValidation(
                                        validation.get().meanLoss(), validation.get().accuracy())
                                .optTest(test.get().meanLoss(), test.get().accuracy())
                                .optSchedules(trainer.dropProb(), trainer.learningRate())
                                .optSpeed(
                                        trained.seconds(),
                                        imagesPerEpoch(trainer) / trained.seconds())
                                .optResidentMb(ResidentMemory.megabytes())
                                .optRealisedDropRate(trainer.realisedDropRate())
                                .build());
                history.checkpoint(trainer::save, console.stop());
            }
            if (config.recalibrateBn()) {
                recalibrate(trainer, history);
            }
            return history.finish(
                    trainer::save,
                    trainer.where()
                            .orElse(
                                    config.framework() == Framework.DJL
                                            ? ""
                                            : config.framework().name()),
                    imagesPerEpoch(trainer));
        }
    }

    private double imagesPerEpoch(Trainer trainer) {
        return trainer.imagesPerEpoch().orElse(data.trainSize());
    }

    /**
     * Recalibrates the trained network's batch norms and measures the held-out sets again.
     *
     * @throws RunStoppedException if a stop was requested during the passes; the last epoch's
     *     checkpoint, written before, holds the network before recalibration
     */
    private void recalibrate(Trainer trainer, TrainingHistory history) {
        trainer.recalibrateBatchNorm();
        Optional<BatchResult> validation = Optional.of(BatchResult.NONE);
        if (data.validationSize() > 0) {
            validation = heldOut(trainer, HeldOut.VALIDATION);
        }
        Optional<BatchResult> test =
                validation.isPresent() ? heldOut(trainer, HeldOut.TEST) : Optional.empty();
        if (test.isEmpty()) {
            throw history.stopRecalibrating();
        }
        history.recalibrated(
                new HeldOutFigures(
                        validation.get().meanLoss(),
                        validation.get().accuracy(),
                        test.get().meanLoss(),
                        test.get().accuracy()));
    }

    /**
     * Trains the epoch's batches after those a checkpoint inside it already did, until they are all
     * done or a stop is requested.
     *
     * @return the epoch's training so far, what the checkpoint held included
     */
    private PartialEpoch trainEpoch(Trainer trainer, int epoch, TrainingHistory history) {
        PartialEpoch done = history.doneOf(epoch);
        BatchResult before =
                new BatchResult(
                        done.samples(),
                        done.samples() == 0 ? 0 : done.trainLoss() * done.samples(),
                        done.samples() == 0
                                ? 0
                                : Math.round(done.trainAccuracy() * done.samples()));
        BatchResult now = BatchResult.NONE;
        int batches = trainer.trainBatches();
        int index = done.batches();
        while (index < batches) {
            BatchResult batch = trainer.trainBatch(index);
            index++;
            now = now.plus(batch);
            if (!Double.isFinite(batch.lossSum())) {
                throw new RunDivergedException(
                        batch.meanLoss(), epoch, trainer.stepsDone(), config.lr());
            }
            console.progress()
                    .update(
                            epoch,
                            config.epochs(),
                            index,
                            batches,
                            before.plus(now).meanLoss(),
                            now.samples() / history.epochSeconds(),
                            trainer.dropProb());
            if (console.stop().isRequested()) {
                break;
            }
        }
        console.progress().finish();
        BatchResult all = before.plus(now);
        return new PartialEpoch(
                epoch,
                index,
                all.samples(),
                all.meanLoss(),
                all.accuracy(),
                done.seconds() + history.epochSeconds());
    }

    /**
     * Runs a held-out set through the network in evaluation mode.
     *
     * @return the set's loss and accuracy; empty if a stop was requested before its last batch
     */
    private Optional<BatchResult> heldOut(Trainer trainer, HeldOut set) {
        BatchResult all = BatchResult.NONE;
        int batches = trainer.heldOutBatches(set);
        for (int index = 0; index < batches; index++) {
            all = all.plus(trainer.evaluateBatch(set, index));
            if (console.stop().isRequested() && index + 1 < batches) {
                return Optional.empty();
            }
        }
        return Optional.of(all);
    }
}
