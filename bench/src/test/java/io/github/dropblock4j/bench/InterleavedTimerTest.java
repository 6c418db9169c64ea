package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class InterleavedTimerTest {

    // A contender that sleeps this long cannot have a shorter median; one that returns its input
    // at once takes microseconds, far below it even on a loaded machine.
    private static final long SLEEP_MILLIS = 20;

    @Test
    void orderRotatesFromOneIterationToTheNextAndWarmUpRunsToo() {
        List<Integer> order = new ArrayList<>();
        List<UnaryOperator<NDArray>> forwards = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            int id = k;
            forwards.add(
                    x -> {
                        order.add(id);
                        return x;
                    });
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            new InterleavedTimer(2, 3)
                    .medianMillis(manager.ones(new Shape(1)), forwards, Pass.FORWARD);
        }
        // Iterations -2 to 2; iteration i starts with contender (i mod 3).
        assertEquals(List.of(1, 2, 0, 2, 0, 1, 0, 1, 2, 1, 2, 0, 2, 0, 1), order);
    }

    @Test
    void mediansFollowTheContendersOrder() {
        UnaryOperator<NDArray> sleeper =
                x -> {
                    try {
                        Thread.sleep(SLEEP_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    return x;
                };
        UnaryOperator<NDArray> identity = x -> x;
        double[] medians;
        try (NDManager manager = NDManager.newBaseManager()) {
            medians =
                    new InterleavedTimer(0, 5)
                            .medianMillis(
                                    manager.ones(new Shape(1)),
                                    List.of(identity, sleeper),
                                    Pass.FORWARD);
        }
        assertEquals(2, medians.length);
        assertTrue(medians[1] >= SLEEP_MILLIS, "sleeper " + medians[1] + " ms");
        assertTrue(medians[0] < SLEEP_MILLIS, "identity " + medians[0] + " ms");
    }

    @Test
    void badArgumentsNameTheValue() {
        assertEquals(
                "iterations must be in [1, 10000], got 0",
                assertThrows(IllegalArgumentException.class, () -> new InterleavedTimer(3, 0))
                        .getMessage());
        assertEquals(
                "iterations must be in [1, 10000], got 10001",
                assertThrows(IllegalArgumentException.class, () -> new InterleavedTimer(3, 10_001))
                        .getMessage());
        assertEquals(
                "warmup must be in [0, 10000], got -1",
                assertThrows(IllegalArgumentException.class, () -> new InterleavedTimer(-1, 10))
                        .getMessage());
        assertEquals(
                "InterleavedTimer(warmup=3, iterations=10)",
                new InterleavedTimer(3, 10).toString());
    }
}
