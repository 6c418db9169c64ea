package io.github.dropblock4j.bench;

import io.github.dropblock4j.dl4j.DropBlock;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.dropout.SpatialDropout;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The Deeplearning4j DropBlock (arXiv 1810.12890) against DL4J's own {@link Dropout} and {@link
 * SpatialDropout}, all at keep probability 0.9, on ResNet-50-shaped NCHW activations: a training
 * forward ({@code applyDropout}) and its backward ({@code backprop}) as a layer calls them, in
 * place on the input as a {@code DropoutLayer} of a {@code MultiLayerNetwork} does, inside a
 * workspace for {@link ArrayType#INPUT} configured as DL4J configures it during {@code fit}.
 *
 * <p>Sample-time mode: the p0.50 line of each result is the median of single steps. Each step gets
 * a fresh copy of the input and a gradient of ones, made before the timed call. Run with {@code
 * OMP_WAIT_POLICY=PASSIVE} from the shell, as {@code docs/performance.md} says.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// The first step takes seconds (the workspace learns its size, fresh pages are faulted in), so
// warm-up is counted in iterations of at least one step each.
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
// DL4J as the application runs it: ND4J's oneDNN library and DL4J's helpers on (OneDnn).
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xmx2g",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.bytedeco.javacpp.platform.extension=-onednn",
            "-Dorg.eclipse.deeplearning4j.helpers.disable=false"
        })
public class Dl4jDropBlockBenchmark {

    /** The implementations compared. */
    public enum Dl4jContender {
        /** {@code new DropBlock(0.9, block)}: calibrated gamma, batch scale, per-channel masks. */
        DROPBLOCK,
        /** DL4J's {@code new Dropout(0.9)}: one Bernoulli draw per unit. */
        DROPOUT,
        /** DL4J's {@code new SpatialDropout(0.9)}: one Bernoulli draw per channel. */
        SPATIAL_DROPOUT;

        IDropout create(double keepProb, int blockSize) {
            switch (this) {
                case DROPBLOCK:
                    return new DropBlock(keepProb, blockSize);
                case DROPOUT:
                    return new Dropout(keepProb);
                case SPATIAL_DROPOUT:
                    return new SpatialDropout(keepProb);
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /** The contender, its workspace and the step's arrays, for a whole trial. */
    @State(Scope.Thread)
    public static class Fixture {

        /** Input shape and block size, {@code NxCxHxW/block}. */
        @Param({"32x256x56x56/7", "32x512x28x28/7", "32x1024x14x14/7", "32x2048x7x7/7"})
        public String benchmarkCase;

        /** Which implementation runs. */
        @Param({"DROPBLOCK", "DROPOUT", "SPATIAL_DROPOUT"})
        public Dl4jContender contender;

        /** The keep probability. */
        @Param({"0.9"})
        public double keepProb;

        IDropout dropout;
        LayerWorkspaceMgr workspaces;
        INDArray source;
        INDArray input;
        INDArray gradient;

        /** Creates the input values, the contender and the workspace. */
        @Setup(Level.Trial)
        public void prepare() {
            String[] parts = benchmarkCase.split("/");
            String[] dims = parts[0].split("x");
            long[] shape = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                shape[i] = Long.parseLong(dims[i]);
            }
            Nd4j.getRandom().setSeed(1);
            source = Nd4j.rand(DataType.FLOAT, shape).subi(0.5);
            input = source.dup();
            gradient = source.ulike();
            dropout = contender.create(keepProb, Integer.parseInt(parts[1]));
            // DL4J's configuration of the workspace of ArrayType.INPUT during fit
            // (MultiLayerNetwork's WS_ALL_LAYERS_ACT_CONFIG): sized after the first loop.
            WorkspaceConfiguration config =
                    WorkspaceConfiguration.builder()
                            .initialSize(0)
                            .overallocationLimit(0.05)
                            .policyLearning(LearningPolicy.FIRST_LOOP)
                            .policyReset(ResetPolicy.BLOCK_LEFT)
                            .policyAllocation(AllocationPolicy.OVERALLOCATE)
                            .policySpill(SpillPolicy.REALLOCATE)
                            .build();
            workspaces =
                    LayerWorkspaceMgr.builder()
                            .with(ArrayType.INPUT, "bench-input", config)
                            .defaultNoWorkspace()
                            .build();
        }

        /** Restores the input and a gradient of ones, untimed. */
        @Setup(Level.Invocation)
        public void next() {
            input.assign(source);
            gradient.assign(1);
        }
    }

    /**
     * Training forward in place, then backward in place, in the layer's workspace.
     *
     * @param fixture the prepared contender and arrays
     * @param blackhole sinks the output and the gradient
     */
    @Benchmark
    public void forwardBackward(Fixture fixture, Blackhole blackhole) {
        LayerWorkspaceMgr workspaces = fixture.workspaces;
        try (MemoryWorkspace ws = workspaces.notifyScopeEntered(ArrayType.INPUT)) {
            INDArray output =
                    fixture.dropout.applyDropout(fixture.input, fixture.input, 0, 0, workspaces);
            blackhole.consume(output);
            blackhole.consume(fixture.dropout.backprop(fixture.gradient, fixture.gradient, 0, 0));
        }
    }

    /**
     * Training forward in place, in the layer's workspace.
     *
     * @param fixture the prepared contender and arrays
     * @param blackhole sinks the output
     */
    @Benchmark
    public void forward(Fixture fixture, Blackhole blackhole) {
        LayerWorkspaceMgr workspaces = fixture.workspaces;
        try (MemoryWorkspace ws = workspaces.notifyScopeEntered(ArrayType.INPUT)) {
            blackhole.consume(
                    fixture.dropout.applyDropout(fixture.input, fixture.input, 0, 0, workspaces));
            fixture.dropout.clear();
        }
    }
}
