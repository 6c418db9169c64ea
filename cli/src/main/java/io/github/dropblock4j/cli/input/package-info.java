/**
 * What the user gives the command line and how bad input is reported: the converters and mixins of
 * the options several commands share, each with one rule and one message, and {@link
 * io.github.dropblock4j.cli.input.BadInputException} for input files and directories that cannot be
 * used. Both are usage errors: the command exits with code 2. Depends on no other package of the
 * application, so every feature package can use it.
 */
package io.github.dropblock4j.cli.input;
