/**
 * JMH benchmarks of DropBlock (arXiv 1810.12890) for Deep Java Library: {@link
 * io.github.dropblock4j.bench.DropBlockBenchmark}.
 */
package io.github.dropblock4j.bench;
