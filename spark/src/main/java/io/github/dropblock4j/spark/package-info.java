/**
 * Distributed training of DL4J networks with DropBlock (arXiv 1810.12890) on Apache Spark: {@link
 * io.github.dropblock4j.spark.ScheduleAwareTrainingMaster}, DL4J's parameter averaging with the
 * iteration and epoch counts of every worker kept on the true progress of training, so that the
 * keep-probability schedule ramps on the cluster as it does on one machine; {@link
 * io.github.dropblock4j.spark.SparkJvmOptions}, the JVM options Spark needs on Java 17.
 */
package io.github.dropblock4j.spark;
