package io.github.dropblock4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.djl.DropBlock;
import java.util.function.UnaryOperator;

/**
 * The contenders of the DropBlock speed comparison, shared by the JMH benchmarks of this module and
 * the {@link InterleavedTimer} of {@code dropblock4j bench}, so that both time exactly the same
 * code.
 *
 * <p>Each contender is {@link #prepare prepared} once per input shape and then applied to fresh
 * inputs; a {@link Pass} is the timed step. Every array a step creates is attached to its input's
 * manager, so closing that manager frees it.
 */
public enum Contender {
    /** dropblock4j's {@link DropBlock} with its defaults: per channel, calibrated, batch scale. */
    DROPBLOCK("DropBlock") {
        @Override
        public UnaryOperator<NDArray> prepare(NDManager manager, BenchmarkCase c, float dropProb) {
            return forwardOf(
                    DropBlock.builder().optBlockSize(c.blockSize()).optDropProb(dropProb).build());
        }
    },

    /**
     * The floor: the engine multiplying by a mask drawn beforehand (a DropBlock mask, 0 or the
     * scale), which is what any masking costs once the mask exists.
     */
    READY_MASK("ready mask") {
        @Override
        public UnaryOperator<NDArray> prepare(NDManager manager, BenchmarkCase c, float dropProb) {
            NDArray mask =
                    DropBlock.dropBlock(manager.ones(c.shape()), dropProb, c.blockSize(), true);
            return x -> x.mul(mask);
        }
    },

    /** DJL's {@link Dropout} at the same rate. */
    DROPOUT("Dropout") {
        @Override
        public UnaryOperator<NDArray> prepare(NDManager manager, BenchmarkCase c, float dropProb) {
            return forwardOf(Dropout.builder().optRate(dropProb).build());
        }
    },

    /**
     * The peer baseline: the dense per-channel algorithm of torchvision's {@code drop_block2d} in
     * DJL operators on the same engine. Uniform noise below gamma (eq. (1) of the paper, as
     * torchvision computes it) over the valid region, zero padding of {@code block - 1}, a stride-1
     * max pool of the block size, {@code 1 - pooled}, then {@code x * mask * numel / (1e-6 +
     * sum(mask))}.
     */
    DENSE_DROPBLOCK("dense DropBlock") {
        @Override
        public UnaryOperator<NDArray> prepare(NDManager manager, BenchmarkCase c, float dropProb) {
            long[] d = c.shape().getShape();
            BlockGeometry geometry =
                    BlockGeometry.of(
                            new int[] {Math.toIntExact(d[2]), Math.toIntExact(d[3])},
                            new int[] {c.blockSize()});
            double gamma = DropBlockGamma.gamma(geometry, dropProb, GammaMode.PAPER);
            int bh = geometry.block(0);
            int bw = geometry.block(1);
            Shape valid = new Shape(d[0], d[1], geometry.validExtent(0), geometry.validExtent(1));
            Shape padding = new Shape(bw - 1, bw - 1, bh - 1, bh - 1);
            Shape kernel = new Shape(bh, bw);
            return x -> {
                NDArray noise =
                        x.getManager()
                                .randomUniform(0f, 1f, valid)
                                .lt(gamma)
                                .toType(DataType.FLOAT32, false)
                                .pad(padding, 0);
                NDArray pooled =
                        Pool.maxPool2d(noise, kernel, new Shape(1, 1), new Shape(0, 0), false);
                NDArray mask = NDArrays.sub(1f, pooled);
                NDArray scale = NDArrays.div((double) mask.size(), mask.sum().add(1e-6f));
                return x.mul(mask).mul(scale);
            };
        }
    },

    /**
     * dropblock4j's {@link DropBlock} drawing its mask with engine operators, the path it takes on
     * GPUs, forced on the CPU.
     */
    DROPBLOCK_ENGINE_OPS("DropBlock, engine ops") {
        @Override
        public UnaryOperator<NDArray> prepare(NDManager manager, BenchmarkCase c, float dropProb) {
            return forwardOf(
                    DropBlock.builder()
                            .optBlockSize(c.blockSize())
                            .optDropProb(dropProb)
                            .optEngineMask(true)
                            .build());
        }
    };

    private final String label;

    Contender(String label) {
        this.label = label;
    }

    /**
     * Returns the contender's name in tables.
     *
     * @return a short label
     */
    public String label() {
        return label;
    }

    /**
     * Prepares the contender for inputs of one case.
     *
     * @param manager where fixtures that outlive one step live (the ready mask)
     * @param benchmarkCase the input shape and block size
     * @param dropProb the drop probability, or dropout rate
     * @return the training-mode forward of the contender
     */
    public abstract UnaryOperator<NDArray> prepare(
            NDManager manager, BenchmarkCase benchmarkCase, float dropProb);

    private static UnaryOperator<NDArray> forwardOf(Block block) {
        return x ->
                block.forward(new ParameterStore(x.getManager(), false), new NDList(x), true)
                        .singletonOrThrow();
    }
}
