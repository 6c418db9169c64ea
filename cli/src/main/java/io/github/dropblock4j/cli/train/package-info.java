/**
 * The {@code train} command: the options {@code train} and {@code ablate} share, the images a run
 * learns from, and {@link io.github.dropblock4j.cli.train.TrainingRun}, DJL's training loop with
 * what this application adds (per-epoch reseeding, validation and test passes, checkpoints, a stop
 * on Ctrl-C or SIGTERM and the resume after it).
 */
package io.github.dropblock4j.cli.train;
