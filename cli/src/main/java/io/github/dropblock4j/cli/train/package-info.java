/**
 * The {@code train} command and the training protocol every framework shares: the options {@code
 * train} and {@code ablate} share, the images a run learns from ({@link
 * io.github.dropblock4j.cli.train.ImageTrainingData}), the {@link
 * io.github.dropblock4j.cli.train.TrainingRecipe} (optimizer and schedules), and {@link
 * io.github.dropblock4j.cli.train.TrainingRun}, the one epoch loop (per-epoch reseeding, validation
 * and test passes, checkpoints, a stop on Ctrl-C or SIGTERM and the resume after it, divergence)
 * that drives a framework's {@link io.github.dropblock4j.cli.train.Trainer}. This package imports
 * no framework; the trainers live in {@code train.djl} and {@code train.dl4j}, and {@link
 * io.github.dropblock4j.cli.train.TrainerFactory} is the one class that names both.
 */
package io.github.dropblock4j.cli.train;
