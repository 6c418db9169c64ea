/**
 * DropBlock (arXiv 1810.12890) for Deeplearning4j: the {@link io.github.dropblock4j.dl4j.DropBlock}
 * dropout with the keep probability of DL4J's own dropouts, the paper's linear {@link
 * io.github.dropblock4j.dl4j.KeepProbSchedule}, the {@link
 * io.github.dropblock4j.dl4j.DropoutPlacement} check of where DL4J ignores a dropout, and {@link
 * io.github.dropblock4j.dl4j.ResNetDropBlock}, residual networks with DropBlock placed as in the
 * paper.
 */
package io.github.dropblock4j.dl4j;
