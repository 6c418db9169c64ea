package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class InterleavedTimerTest {

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
    void mediansAreEachContendersOwnTimesOnTheGivenClock() {
        // A clock that only the contenders advance: contender k takes k + 1 ms in every timed
        // iteration but its third, where it takes 100 ms more; the median ignores that outlier.
        long[] now = {0};
        int[] calls = new int[3];
        List<UnaryOperator<NDArray>> forwards = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            int id = k;
            forwards.add(
                    x -> {
                        int call = calls[id]++;
                        // Call 0 is the warm-up iteration; call 3 is the third timed one.
                        now[0] += (id + 1) * 1_000_000L + (call == 3 ? 100_000_000L : 0);
                        return x;
                    });
        }
        double[] medians;
        try (NDManager manager = NDManager.newBaseManager()) {
            medians =
                    new InterleavedTimer(1, 5, () -> now[0])
                            .medianMillis(manager.ones(new Shape(1)), forwards, Pass.FORWARD);
        }
        assertArrayEquals(new double[] {1, 2, 3}, medians);
        assertArrayEquals(new int[] {6, 6, 6}, calls);
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
        assertThrows(NullPointerException.class, () -> new InterleavedTimer(3, 10, null));
        assertEquals(
                "InterleavedTimer(warmup=3, iterations=10)",
                new InterleavedTimer(3, 10).toString());
    }
}
