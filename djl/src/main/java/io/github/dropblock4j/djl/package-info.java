/**
 * DropBlock (arXiv 1810.12890) for Deep Java Library: the {@link
 * io.github.dropblock4j.djl.DropBlock} block and its functional form, the {@link
 * io.github.dropblock4j.djl.DropBlockScheduler} of its drop probability, and {@link
 * io.github.dropblock4j.djl.ResNetDropBlock}, residual networks with DropBlock placed as in the
 * paper.
 */
package io.github.dropblock4j.djl;
