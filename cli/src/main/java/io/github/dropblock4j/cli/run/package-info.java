/**
 * A training run on disk: its settings ({@link io.github.dropblock4j.cli.run.TrainConfig}, with its
 * {@link io.github.dropblock4j.cli.run.Regularizer}), its per-epoch metrics and summary, and the
 * {@link io.github.dropblock4j.cli.run.RunDirectory} that writes them, with its checkpoints, so
 * that nothing half-written is taken for a result. The JSON and CSV formats of older runs stay
 * readable.
 */
package io.github.dropblock4j.cli.run;
