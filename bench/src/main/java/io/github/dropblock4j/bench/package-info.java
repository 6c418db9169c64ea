/**
 * The speed comparison of DropBlock (arXiv 1810.12890) for Deep Java Library: the {@link
 * io.github.dropblock4j.bench.Contender}s and {@link io.github.dropblock4j.bench.BenchmarkCase}s,
 * the timed {@link io.github.dropblock4j.bench.Pass}, the JMH benchmarks ({@link
 * io.github.dropblock4j.bench.DropBlockBenchmark}) and the quick {@link
 * io.github.dropblock4j.bench.InterleavedTimer} behind {@code dropblock4j bench}.
 */
package io.github.dropblock4j.bench;
