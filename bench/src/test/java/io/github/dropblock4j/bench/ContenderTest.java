package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ContenderTest {

    @ParameterizedTest
    @EnumSource(Contender.class)
    void everyContenderKeepsTheShapeAndHasAGradient(Contender contender) {
        Engine.getInstance().setRandomSeed(8);
        BenchmarkCase c = BenchmarkCase.parse("2x3x8x8/3");
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray source = manager.randomUniform(0.5f, 1.5f, c.shape());
            UnaryOperator<NDArray> forward = contender.prepare(manager, c, 0.2f);
            try (NDManager step = manager.newSubManager()) {
                NDArray input = Pass.FORWARD_BACKWARD.input(step, source);
                NDArray output = Pass.FORWARD_BACKWARD.run(forward, input);
                assertEquals(c.shape(), output.getShape());
                assertEquals(new Shape(2, 3, 8, 8), input.getGradient().getShape());
                // Every contender drops something at p = 0.2 over 384 units and rescales the rest.
                assertTrue(output.eq(0).sum().getLong() > 0, contender.label());
                assertTrue(output.sum().getFloat() > 0, contender.label());
            }
        }
    }

    @Test
    void labelsAreDistinct() {
        assertEquals(
                Contender.values().length,
                Arrays.stream(Contender.values()).map(Contender::label).distinct().count());
    }
}
