/**
 * The {@code bench} command: {@link io.github.dropblock4j.cli.bench.BenchCommand}, a quick version
 * of the {@code bench} module's JMH comparison of DropBlock with its contenders, timed with that
 * module's interleaved timer.
 */
package io.github.dropblock4j.cli.bench;
