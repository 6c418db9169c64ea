package io.github.dropblock4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.MaskSampler;
import io.github.dropblock4j.core.ScaleMode;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Draws a scaled DropBlock mask as an engine array: 0 where a unit is dropped, the scale where it
 * is kept.
 *
 * <p>The mask is painted by {@link MaskSampler} straight into the engine's own memory through the
 * zero-copy view that {@link NDArray#toByteBuffer(boolean)} gives on the CPU, so no random number
 * is drawn per unit, no buffer is copied, and the memory is freed with the array. The sampler's
 * random generator is seeded from the engine's, so setting the engine's seed reproduces the masks.
 */
final class DropBlockMask {

    private DropBlockMask() {}

    /**
     * Samples a mask.
     *
     * @param manager where the mask lives
     * @param maskShape (masks..., spatial...): the mask's shape, broadcastable to the input
     * @param geometry the spatial layout of one mask
     * @param gamma the seed probability
     * @param scaleMode how kept units are scaled
     * @param dropProb the requested drop probability
     * @param dataType the mask's data type, that of the input
     * @return the mask, attached to {@code manager}
     */
    static NDArray sample(
            NDManager manager,
            Shape maskShape,
            BlockGeometry geometry,
            double gamma,
            ScaleMode scaleMode,
            double dropProb,
            DataType dataType) {
        long total = maskShape.size();
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "mask must have at most " + Integer.MAX_VALUE + " units, got " + total + " for shape " + maskShape);
        }
        SplittableRandom random = new SplittableRandom(engineSeed(manager));
        NDArray mask = manager.ones(maskShape, DataType.FLOAT32);
        FloatBuffer view = mask.toByteBuffer(true).asFloatBuffer();
        long dropped = MaskSampler.paint(view, total / geometry.area(), geometry, gamma, random);
        double scale = scaleMode.scale(total, total - dropped, dropProb);
        if (scale != 1.0) {
            mask.muli(scale);
        }
        if (dataType != DataType.FLOAT32) {
            NDArray cast = mask.toType(dataType, false);
            mask.close();
            mask = cast;
        }
        return mask;
    }

    private static long engineSeed(NDManager manager) {
        try (NDArray draw = manager.randomInteger(0, Long.MAX_VALUE, new Shape(1), DataType.INT64)) {
            return draw.toLongArray()[0];
        }
    }
}
