/**
 * The data of the command line: readers of IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary files,
 * the immutable {@link io.github.dropblock4j.cli.data.LabeledImages} they return, {@link
 * io.github.dropblock4j.cli.data.DataSource}, which resolves the {@code --data} option, the
 * embedded Fashion-MNIST subset included, and the hidden {@code make-embedded} command that made
 * that subset. Every malformed file is a {@link io.github.dropblock4j.cli.input.BadInputException}
 * naming the file and the value seen.
 */
package io.github.dropblock4j.cli.data;
