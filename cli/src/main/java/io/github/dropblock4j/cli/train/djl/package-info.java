/**
 * The DJL side of {@code train}: {@link io.github.dropblock4j.cli.train.djl.DjlTrainer}, the {@link
 * io.github.dropblock4j.cli.train.Trainer} on Deep Java Library and its PyTorch engine, with the
 * recipe's optimizer ({@link io.github.dropblock4j.cli.train.djl.DjlNesterov}) and the images as
 * DJL datasets ({@link io.github.dropblock4j.cli.train.djl.DjlImages}). Never imports the DL4J
 * side.
 */
package io.github.dropblock4j.cli.train.djl;
