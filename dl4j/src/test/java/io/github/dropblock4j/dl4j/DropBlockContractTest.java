package io.github.dropblock4j.dl4j;

import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.contract.DropBlockContract;
import org.junit.jupiter.api.Nested;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The shared DropBlock contract, for both of the DL4J dropout's ways of building a mask. */
class DropBlockContractTest {

    private static float[] forward(
            boolean engineMask,
            float dropProb,
            MaskSettings settings,
            long[] shape,
            float[] input,
            long seed) {
        DropBlock dropBlock =
                new DropBlock(1.0 - dropProb, 1)
                        .withGamma(settings.gammaMode())
                        .withScale(settings.scaleMode())
                        .withMask(settings.maskSharing())
                        .withEngineMask(engineMask);
        dropBlock =
                settings.blockSize() != null
                        ? dropBlock.withBlockSize(settings.blockSize())
                        : dropBlock.withBlockFraction(settings.blockFraction());
        Nd4j.getRandom().setSeed(seed);
        INDArray y = DropBlockTest.forward(dropBlock, Nd4j.create(input, shape));
        return y.dup('c').data().asFloat();
    }

    /** Masks painted on the host, the nd4j-native default. */
    @Nested
    class HostMask extends DropBlockContract {
        HostMask() {
            super(true);
        }

        /** {@inheritDoc} */
        @Override
        protected float[] forward(
                float dropProb, MaskSettings settings, long[] shape, float[] input, long seed) {
            return DropBlockContractTest.forward(false, dropProb, settings, shape, input, seed);
        }
    }

    /** Masks built from ND4J operations, the default on other backends, forced here. */
    @Nested
    class Nd4jMask extends DropBlockContract {
        Nd4jMask() {
            super(false);
        }

        /** {@inheritDoc} */
        @Override
        protected float[] forward(
                float dropProb, MaskSettings settings, long[] shape, float[] input, long seed) {
            return DropBlockContractTest.forward(true, dropProb, settings, shape, input, seed);
        }
    }
}
