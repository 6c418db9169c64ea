/**
 * The DL4J side of {@code train}: {@link io.github.dropblock4j.cli.train.dl4j.Dl4jTrainer}, the
 * {@link io.github.dropblock4j.cli.train.Trainer} on Deeplearning4j and ND4J, whose network builder
 * {@code spark-train} shares, and the images as ND4J minibatches ({@link
 * io.github.dropblock4j.cli.train.dl4j.Nd4jBatches}). Never imports the DJL side.
 */
package io.github.dropblock4j.cli.train.dl4j;
