/**
 * The {@code ablate} command: the paper's comparisons (arXiv 1810.12890, section 4.1) as arms run
 * over several seeds, each regularizer at its drop probability chosen on a validation split, and
 * the report with paired t-tests and Holm-adjusted verdicts.
 */
package io.github.dropblock4j.cli.ablate;
