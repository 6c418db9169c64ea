package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.github.dropblock4j.core.contract.ResidentMemorySoak;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Native memory of DropBlock's training forwards and backwards. The masks live in ND4J's
 * workspaces, outside the Java heap, so a mask that is never released shows only in the process's
 * resident set.
 *
 * <p>The loop runs in a fresh JVM ({@link ResidentMemorySoak}, the skeleton both adapters share)
 * with a fixed, pre-touched Java heap, so that neither other tests nor the collector's growing use
 * of its heap enter the measurement. Each iteration is a step as a layer runs it: the workspace for
 * {@code ArrayType.INPUT} opened (configured as DL4J configures it during {@code fit}), {@code
 * applyDropout} on the input offered for in-place use, {@code backprop} in place on the gradient,
 * the workspace closed; the keep probability follows {@link KeepProbSchedule#linear(double, int)}
 * over the loop, so every iteration solves a new gamma. The loop is DropBlock's alone: a whole DL4J
 * network's fit loop grows the resident set by itself, with or without any dropout (about 0.5 MB an
 * iteration over its first 400 iterations, measured on 1.0.0-M2 with a small CNN), which would hide
 * DropBlock's share. The full soak is 10,000 iterations; CI runs {@link #CI_ITERATIONS}. Run the
 * full soak with {@code -Ddropblock4j.soak.iterations=10000}.
 *
 * <p>The bar applies to the median resident set over a window of iterations after {@code
 * malloc_trim(0)}, which returns the pages glibc keeps in its arenas; the raw figures are reported
 * too.
 */
class DropBlockNativeMemoryTest {

    // A batch of ResNet-50 group-3 feature maps with half the channels: 6.4 MB a copy.
    private static final long[] SHAPE = {16, 128, 28, 28};
    // Leaking a mask or an output (6.4 MB each) passes the bar within 6 iterations; smaller leaks
    // need the full soak (32 MB / 10,000 = 3.4 kB an iteration).
    private static final int CI_ITERATIONS = 300;
    // The workspace learns its size over the first iterations; measure after that.
    private static final int WARM_UP_ITERATIONS = 50;
    // The full soak measured +13 MB (trimmed, 10,000 iterations at 11.5 ms, flat from iteration
    // 3,000 on: the JIT's and the runtime's own growth); the bar leaves room for a noisier machine.
    private static final long MAX_GROWTH_BYTES = 32L << 20;
    // The self-check allocates this much off-heap and expects the probe to see nearly all of it.
    private static final long PROBE_BYTES = 64L << 20;
    private static final long PROBE_SLACK_BYTES = 4L << 20;

    @Test
    void trainingLoopDoesNotGrowResidentMemory(@TempDir Path dir) throws Exception {
        assumeTrue(ResidentMemorySoak.supported(), "needs Linux's /proc/self/status");
        int iterations = ResidentMemorySoak.iterations(CI_ITERATIONS);
        // A second an iteration is ten times the rate measured on 2 cores under a load of 15.
        Duration timeout = Duration.ofSeconds(120 + WARM_UP_ITERATIONS + iterations);
        ResidentMemorySoak.Report report =
                ResidentMemorySoak.run(
                        Soak.class, ResidentMemorySoak.CHILD_JVM, timeout, dir, iterations);
        String what = Arrays.toString(SHAPE) + " after " + WARM_UP_ITERATIONS + " warm-up";
        System.out.println("DropBlockNativeMemoryTest: " + report.summary(what));

        report.assertProbeSeen(PROBE_BYTES, PROBE_SLACK_BYTES);
        // The loop really dropped: the last gradient has zeros, but not only zeros.
        long lastDropped = Long.parseLong(report.get("lastDroppedUnits"));
        long units = Arrays.stream(SHAPE).reduce(1, (a, b) -> a * b);
        assertTrue(lastDropped > 0 && lastDropped < units, "last step dropped " + lastDropped);
        report.assertGrowthAtMost(MAX_GROWTH_BYTES, what);
    }

    /**
     * The soak, in its own JVM: {@code Soak iterations reportFile}. Writes its figures to the
     * report as properties and leaves the judging to the test.
     */
    static final class Soak {

        private Soak() {}

        public static void main(String[] args) throws IOException {
            int iterations = Integer.parseInt(args[0]);
            Nd4j.getRandom().setSeed(20181029);
            INDArray source = Nd4j.rand(DataType.FLOAT, SHAPE);
            long probeSeen =
                    ResidentMemorySoak.probe(
                            () -> {
                                INDArray big = Nd4j.ones(DataType.FLOAT, PROBE_BYTES / Float.BYTES);
                                return big::close;
                            });
            int total = WARM_UP_ITERATIONS + iterations;
            DropBlock dropBlock = new DropBlock(KeepProbSchedule.linear(0.9, total), 7);
            LayerWorkspaceMgr workspaces =
                    LayerWorkspaceMgr.builder()
                            .with(ArrayType.INPUT, "soak-input", layerWorkspace())
                            .defaultNoWorkspace()
                            .build();
            INDArray input = source.dup();
            INDArray gradient = source.ulike();
            Properties figures =
                    ResidentMemorySoak.measure(
                            WARM_UP_ITERATIONS,
                            iterations,
                            i -> trainingStep(dropBlock, workspaces, input, gradient, i),
                            Glibc.available() ? new Glibc() : null);
            figures.setProperty("probeSeenBytes", Long.toString(probeSeen));
            // Counted once, after the loop: counting allocates arrays outside the workspace.
            figures.setProperty(
                    "lastDroppedUnits", Long.toString(DropBlockTest.countZeros(gradient)));
            ResidentMemorySoak.write(figures, Path.of(args[1]));
        }

        /**
         * One step as a layer runs it: forward offered in place, backward in place on a gradient of
         * ones, in the layer's workspace.
         */
        private static void trainingStep(
                DropBlock dropBlock,
                LayerWorkspaceMgr workspaces,
                INDArray input,
                INDArray gradient,
                int iteration) {
            gradient.assign(1);
            try (MemoryWorkspace ws = workspaces.notifyScopeEntered(ArrayType.INPUT)) {
                dropBlock.applyDropout(input, input, iteration, 0, workspaces);
                dropBlock.backprop(gradient, gradient, iteration, 0);
            }
        }

        /**
         * DL4J's configuration of the workspace of {@code ArrayType.INPUT} during {@code fit}
         * ({@code MultiLayerNetwork}'s {@code WS_ALL_LAYERS_ACT_CONFIG}).
         */
        private static WorkspaceConfiguration layerWorkspace() {
            return WorkspaceConfiguration.builder()
                    .initialSize(0)
                    .overallocationLimit(0.05)
                    .policyLearning(LearningPolicy.FIRST_LOOP)
                    .policyReset(ResetPolicy.BLOCK_LEFT)
                    .policySpill(SpillPolicy.REALLOCATE)
                    .policyAllocation(AllocationPolicy.OVERALLOCATE)
                    .build();
        }
    }

    /** glibc's {@code malloc_trim}, through JNA (a dependency of ND4J). */
    static final class Glibc implements ResidentMemorySoak.Allocator {

        /** The C library, as far as the soak uses it. */
        public interface C extends Library {
            /**
             * Releases free memory from the heap.
             *
             * @param pad bytes to keep at the top of the main heap
             * @return 1 if memory was released, 0 otherwise
             */
            int malloc_trim(long pad);
        }

        private static C c;

        /**
         * Loads the C library's {@code malloc_trim}.
         *
         * @return false when this is not glibc
         */
        static boolean available() {
            try {
                c = Native.loadLibrary("c", C.class);
                c.malloc_trim(0);
                return true;
            } catch (UnsatisfiedLinkError e) {
                return false;
            }
        }

        /** {@inheritDoc} */
        @Override
        public void trim() {
            c.malloc_trim(0);
        }
    }
}
