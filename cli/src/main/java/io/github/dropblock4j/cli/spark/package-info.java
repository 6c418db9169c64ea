/**
 * The {@code spark-train} command: the DL4J ResNet with DropBlock (arXiv 1810.12890) trained by
 * parameter averaging on Apache Spark, locally or on a cluster, into a run directory like {@code
 * train}'s.
 */
package io.github.dropblock4j.cli.spark;
