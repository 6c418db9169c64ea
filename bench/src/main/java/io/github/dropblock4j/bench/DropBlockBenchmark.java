package io.github.dropblock4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * DropBlock (arXiv 1810.12890) against the floor of any masking (multiplying by a ready mask),
 * DJL's Dropout and the dense per-channel DropBlock of torchvision written in DJL operators, on
 * ResNet-50-shaped inputs, forward and forward+backward. The contenders are {@link Contender} and
 * the steps {@link Pass}, the same code the {@link InterleavedTimer} of {@code dropblock4j bench}
 * times.
 *
 * <p>Sample-time mode: the p0.50 line of each result is the median of single steps. Every step gets
 * a fresh input in its own sub-manager, created before and closed after the timed call. The forks
 * need the environment variables {@code OMP_WAIT_POLICY=PASSIVE} and {@code DJL_CACHE_DIR} from the
 * launching shell; see {@code docs/performance.md}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xmx2g",
            "-Dai.djl.offline=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=error"
        })
public class DropBlockBenchmark {

    /** The contender prepared for one case, for a whole trial. */
    @State(Scope.Thread)
    public static class Fixture {

        /** Input shape and block size, {@code NxCxHxW/block}. */
        @Param({
            "32x256x56x56/7",
            "32x512x28x28/7",
            "32x1024x14x14/7",
            "32x2048x7x7/7",
            "32x1024x14x14/3",
            "32x1024x14x14/5"
        })
        public String benchmarkCase;

        /** Which implementation runs. */
        @Param({"DROPBLOCK", "READY_MASK", "DROPOUT", "DENSE_DROPBLOCK", "DROPBLOCK_ENGINE_OPS"})
        public Contender contender;

        /** Drop probability, and the dropout rate. */
        @Param({"0.1"})
        public float dropProb;

        NDManager manager;
        NDArray source;
        UnaryOperator<NDArray> forward;

        /** Creates the input values and prepares the contender. */
        @Setup(Level.Trial)
        public void prepare() {
            if (!"PASSIVE".equals(System.getenv("OMP_WAIT_POLICY"))) {
                System.err.println(
                        "warning: OMP_WAIT_POLICY is not PASSIVE; engine timings will be erratic");
            }
            Engine.getInstance().setRandomSeed(1);
            manager = NDManager.newBaseManager();
            BenchmarkCase c = BenchmarkCase.parse(benchmarkCase);
            source = manager.randomUniform(-1f, 1f, c.shape());
            forward = contender.prepare(manager, c, dropProb);
        }

        /** Frees every array of the trial. */
        @TearDown(Level.Trial)
        public void release() {
            manager.close();
        }
    }

    /** One step's input, in a sub-manager that frees the step's arrays afterwards. */
    abstract static class Step {
        NDManager manager;
        NDArray input;

        void open(Fixture fixture, Pass pass) {
            manager = fixture.manager.newSubManager();
            input = pass.input(manager, fixture.source);
        }

        /** Frees the step's input, output and gradients. */
        @TearDown(Level.Invocation)
        public void close() {
            manager.close();
        }
    }

    /** The input of a forward step. */
    @State(Scope.Thread)
    public static class ForwardStep extends Step {
        /**
         * Copies a fresh input.
         *
         * @param fixture the trial's fixture
         */
        @Setup(Level.Invocation)
        public void next(Fixture fixture) {
            open(fixture, Pass.FORWARD);
        }
    }

    /** The input of a forward and backward step, with a gradient. */
    @State(Scope.Thread)
    public static class BackwardStep extends Step {
        /**
         * Copies a fresh input that records its gradient.
         *
         * @param fixture the trial's fixture
         */
        @Setup(Level.Invocation)
        public void next(Fixture fixture) {
            open(fixture, Pass.FORWARD_BACKWARD);
        }
    }

    /**
     * Training-mode forward.
     *
     * @param fixture the prepared contender
     * @param step a fresh input
     * @return the output
     */
    @Benchmark
    public NDArray forward(Fixture fixture, ForwardStep step) {
        return Pass.FORWARD.run(fixture.forward, step.input);
    }

    /**
     * Training-mode forward, then backward from the output with a gradient of ones.
     *
     * @param fixture the prepared contender
     * @param step a fresh input with a gradient
     * @return the output
     */
    @Benchmark
    public NDArray forwardBackward(Fixture fixture, BackwardStep step) {
        return Pass.FORWARD_BACKWARD.run(fixture.forward, step.input);
    }
}
