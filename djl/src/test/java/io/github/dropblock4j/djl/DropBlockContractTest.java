package io.github.dropblock4j.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.contract.DropBlockContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;

/** The shared DropBlock contract, for both of the DJL block's ways of drawing a mask. */
class DropBlockContractTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private float[] forward(
            boolean engineMask,
            float dropProb,
            MaskSettings settings,
            long[] shape,
            float[] input,
            long seed) {
        DropBlock.Builder builder =
                DropBlock.builder()
                        .optDropProb(dropProb)
                        .optGammaMode(settings.gammaMode())
                        .optScaleMode(settings.scaleMode())
                        .optMaskSharing(settings.maskSharing())
                        .optEngineMask(engineMask);
        if (settings.blockSize() != null) {
            builder.optBlockSize(settings.blockSize());
        } else {
            builder.optBlockFraction(settings.blockFraction());
        }
        DropBlock dropBlock = builder.build();
        try (NDManager step = manager.newSubManager()) {
            Engine.getInstance().setRandomSeed(Math.toIntExact(seed));
            return DropBlockTest.forward(
                            dropBlock, step, step.create(input, new Shape(shape)), true)
                    .toFloatArray();
        }
    }

    /** Masks painted on the host, the CPU default. */
    @Nested
    class HostMask extends DropBlockContract {
        HostMask() {
            super(true);
        }

        /** {@inheritDoc} */
        @Override
        protected float[] forward(
                float dropProb, MaskSettings settings, long[] shape, float[] input, long seed) {
            return DropBlockContractTest.this.forward(
                    false, dropProb, settings, shape, input, seed);
        }
    }

    /** Masks built from engine operators, the default elsewhere, forced here. */
    @Nested
    class EngineMask extends DropBlockContract {
        EngineMask() {
            super(false);
        }

        /** {@inheritDoc} */
        @Override
        protected float[] forward(
                float dropProb, MaskSettings settings, long[] shape, float[] input, long seed) {
            return DropBlockContractTest.this.forward(true, dropProb, settings, shape, input, seed);
        }
    }
}
