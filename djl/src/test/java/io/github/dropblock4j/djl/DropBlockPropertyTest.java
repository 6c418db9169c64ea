package io.github.dropblock4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class DropBlockPropertyTest {

    // float32 division y / x of a scaled unit: a few ulps of the scale.
    private static final double RELATIVE_EPS = 1e-5;

    @Property(tries = 150, seed = "20181029")
    boolean outputIsInputTimesZeroOrOneScale(
            @ForAll("shapes") List<Integer> shape,
            @ForAll("blockSizes") int blockSize,
            @ForAll("dropProbs") float dropProb,
            @ForAll("sharings") MaskSharing sharing,
            @ForAll boolean engineMask) {
        long[] dims = shape.stream().mapToLong(Integer::longValue).toArray();
        DropBlock dropBlock =
                DropBlock.builder()
                        .optBlockSize(blockSize)
                        .optDropProb(dropProb)
                        .optMaskSharing(sharing)
                        .optScaleMode(ScaleMode.BATCH)
                        .optEngineMask(engineMask)
                        .build();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomUniform(1f, 2f, new Shape(dims));
            float[] in = x.toFloatArray();
            float[] out = DropBlockTest.forward(dropBlock, manager, x, true).toFloatArray();
            double scale = Double.NaN;
            long kept = 0;
            for (int i = 0; i < in.length; i++) {
                if (out[i] == 0f) {
                    continue;
                }
                kept++;
                double ratio = out[i] / in[i];
                if (Double.isNaN(scale)) {
                    scale = ratio;
                } else if (Math.abs(ratio - scale) > RELATIVE_EPS * scale) {
                    return false;
                }
            }
            // Batch scaling: the scale is numel / kept over the mask, which broadcasts, so the
            // same ratio holds over the whole output.
            return kept == 0 || Math.abs(scale * kept - in.length) <= RELATIVE_EPS * in.length;
        }
    }

    @Provide
    Arbitrary<List<Integer>> shapes() {
        Arbitrary<Integer> rank = Arbitraries.integers().between(3, 5);
        return rank.flatMap(
                r -> Arbitraries.integers().between(1, r == 5 ? 6 : 12).list().ofSize(r));
    }

    @Provide
    Arbitrary<Integer> blockSizes() {
        return Arbitraries.integers().between(1, 9);
    }

    @Provide
    Arbitrary<Float> dropProbs() {
        return Arbitraries.floats().between(0f, 0.9f);
    }

    @Provide
    Arbitrary<MaskSharing> sharings() {
        return Arbitraries.of(MaskSharing.class);
    }
}
