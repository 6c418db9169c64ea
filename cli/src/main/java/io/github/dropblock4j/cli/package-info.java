/** The {@code dropblock4j} command-line application: training, ablation, pictures, benchmarks. */
package io.github.dropblock4j.cli;
