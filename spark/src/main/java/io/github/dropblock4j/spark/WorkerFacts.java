package io.github.dropblock4j.spark;

import java.io.Serializable;

/**
 * What a Spark task that trained found in the JVM it ran in, reported by the worker itself so that
 * a run can show that its executors, not only its driver, trained with oneDNN and sized threads.
 *
 * @param executorId Spark's id of the executor, {@code "driver"} on a local master
 * @param host the executor's host
 * @param oneDnn {@code OneDnn.describe} of the worker's network, e.g. {@code "oneDNN: on (42 of 42
 *     convolution and batch-norm layers)"}
 * @param nativeThreads the OpenMP threads of the task's thread while it trained
 * @serial exclude Sent from the executors to the driver within one run, never stored.
 */
public record WorkerFacts(String executorId, String host, String oneDnn, int nativeThreads)
        implements Serializable {}
