package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.bench.Dl4jTrainingThroughput.Network;
import io.github.dropblock4j.bench.Dl4jTrainingThroughput.Result;
import org.junit.jupiter.api.Test;

class Dl4jTrainingThroughputTest {

    @Test
    void timesEveryNetworkWithOneDnnOnWhereAsked() {
        Result result = Dl4jTrainingThroughput.measure(1, 2);
        assertEquals(Network.values().length, result.medianMillis().length);
        for (double ms : result.medianMillis()) {
            assertTrue(ms > 0, result.toString());
        }
        assertTrue(result.oneDnnSpeedUp() > 0, result.toString());
        assertTrue(result.dropBlockCost() > 0, result.toString());
        assertEquals("oneDNN: on (42 of 42 convolution and batch-norm layers)", result.oneDnn());
    }

    @Test
    void badArgumentsAreRejectedNamingThem() {
        assertEquals(
                "rounds must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Dl4jTrainingThroughput.measure(0, 2))
                        .getMessage());
        assertEquals(
                "batch must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Dl4jTrainingThroughput.measure(1, 0))
                        .getMessage());
    }
}
