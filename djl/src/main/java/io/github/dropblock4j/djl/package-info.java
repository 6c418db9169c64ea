/**
 * DropBlock (arXiv 1810.12890) for Deep Java Library: the {@link
 * io.github.dropblock4j.djl.DropBlock} block and its functional form.
 */
package io.github.dropblock4j.djl;
