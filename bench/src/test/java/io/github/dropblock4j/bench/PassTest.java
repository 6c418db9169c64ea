package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class PassTest {

    @Test
    void inputIsAFreshCopyFreedWithItsStep() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray source = manager.arange(6f).reshape(new Shape(1, 1, 2, 3));
            NDArray input;
            try (NDManager step = manager.newSubManager()) {
                input = Pass.FORWARD.input(step, source);
                assertNotSame(source, input);
                assertArrayEquals(source.toFloatArray(), input.toFloatArray());
                assertFalse(input.hasGradient());
            }
            assertTrue(input.isReleased());
            assertFalse(source.isReleased());
        }
    }

    @Test
    void forwardBackwardRecordsTheGradientOfTheOutputsSum() {
        try (NDManager manager = NDManager.newBaseManager();
                NDManager step = manager.newSubManager()) {
            NDArray source = manager.arange(6f).reshape(new Shape(1, 1, 2, 3));
            NDArray input = Pass.FORWARD_BACKWARD.input(step, source);
            NDArray output = Pass.FORWARD_BACKWARD.run(x -> x.mul(3f), input);
            assertArrayEquals(new float[] {0, 3, 6, 9, 12, 15}, output.toFloatArray());
            // Backward from the output with a gradient of ones: d(3x)/dx = 3 everywhere.
            assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, input.getGradient().toFloatArray());
        }
    }

    @Test
    void forwardRunsWithoutAGradient() {
        try (NDManager manager = NDManager.newBaseManager();
                NDManager step = manager.newSubManager()) {
            NDArray input = Pass.FORWARD.input(step, manager.ones(new Shape(2)));
            assertArrayEquals(
                    new float[] {2, 2}, Pass.FORWARD.run(x -> x.add(1f), input).toFloatArray());
            assertThrows(IllegalStateException.class, input::getGradient);
        }
    }

    @Test
    void labelsAreTheTableHeadings() {
        assertEquals("fwd", Pass.FORWARD.label());
        assertEquals("fwd+bwd", Pass.FORWARD_BACKWARD.label());
    }
}
