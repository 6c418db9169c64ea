/**
 * The {@code dropblock4j} command line: {@link io.github.dropblock4j.cli.DropBlockCli}, which
 * gathers the commands of the feature packages ({@code train}, {@code run}, {@code ablate}, {@code
 * figure}, {@code data}) and maps failures to exit codes. Nothing depends on this package.
 */
package io.github.dropblock4j.cli;
