package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.deeplearning4j.nn.conf.serde.JsonMappers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

class KeepProbScheduleTest {

    // Two roundings in 1 - (1 - target) * t / T.
    private static final double EPS = 1e-15;

    @Test
    void linearFallsFromOneToTheTargetThenHolds() {
        KeepProbSchedule schedule = KeepProbSchedule.linear(0.9, 1000);
        assertEquals(1.0, schedule.valueAt(0, 0));
        assertEquals(0.99, schedule.valueAt(100, 0), EPS);
        assertEquals(0.95, schedule.valueAt(500, 3), EPS);
        assertEquals(0.9, schedule.valueAt(1000, 0));
        assertEquals(0.9, schedule.valueAt(5000, 9));
        for (int t = 1; t <= 1000; t++) {
            assertTrue(schedule.valueAt(t, 0) <= schedule.valueAt(t - 1, 0), "step " + t);
            assertTrue(schedule.valueAt(t, 0) >= 0.9, "step " + t);
        }
    }

    @Test
    void epochDoesNotMatter() {
        KeepProbSchedule schedule = KeepProbSchedule.linear(0.8, 10);
        assertEquals(schedule.valueAt(4, 0), schedule.valueAt(4, 7));
    }

    @Test
    void dropScaledMultipliesTheDropProbability() {
        ISchedule quarter = KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.8, 10), 0.25);
        assertEquals(1.0, quarter.valueAt(0, 0));
        assertEquals(1 - 0.25 * 0.1, quarter.valueAt(5, 0), EPS);
        assertEquals(0.95, quarter.valueAt(10, 0), EPS);
        ISchedule steps = new StepSchedule(ScheduleType.EPOCH, 0.9, 0.5, 1);
        assertEquals(1 - 0.5 * 0.55, KeepProbSchedule.dropScaled(steps, 0.5).valueAt(0, 1), EPS);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -0.5, 1.5, Double.NaN})
    void badTargetIsRejectedNamingIt(double target) {
        assertEquals(
                "targetKeepProb must be in (0, 1], got " + target,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> KeepProbSchedule.linear(target, 10))
                        .getMessage());
    }

    @Test
    void badArgumentsAreRejectedNamingThem() {
        assertEquals(
                "totalIterations must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> KeepProbSchedule.linear(0.9, 0))
                        .getMessage());
        assertEquals(
                "dropFactor must be in [0, 1], got 1.5",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        KeepProbSchedule.dropScaled(
                                                KeepProbSchedule.linear(0.9, 1), 1.5))
                        .getMessage());
        assertEquals(
                "base must not be null, got null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> KeepProbSchedule.dropScaled(null, 0.5))
                        .getMessage());
    }

    @Test
    void valueClassesCompareByContent() {
        assertEquals(KeepProbSchedule.linear(0.9, 10), KeepProbSchedule.linear(0.9, 10));
        assertEquals(
                KeepProbSchedule.linear(0.9, 10).hashCode(),
                KeepProbSchedule.linear(0.9, 10).hashCode());
        assertNotEquals(KeepProbSchedule.linear(0.9, 10), KeepProbSchedule.linear(0.9, 11));
        assertNotEquals(KeepProbSchedule.linear(0.9, 10), KeepProbSchedule.linear(0.8, 10));
        ISchedule scaled = KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.9, 10), 0.5);
        assertEquals(scaled, scaled.clone());
        assertEquals(scaled.hashCode(), scaled.clone().hashCode());
        assertNotEquals(
                scaled, KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.9, 10), 0.25));
        assertEquals(
                "KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.9, 10), 0.5)",
                scaled.toString());
    }

    @Test
    void roundTripsThroughDl4jJsonAndJavaSerialization() throws Exception {
        ISchedule scaled = KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.85, 1234), 0.25);
        String json = JsonMappers.getMapper().writeValueAsString(scaled);
        assertEquals(scaled, JsonMappers.getMapper().readValue(json, ISchedule.class));
        assertEquals(scaled, javaRoundTrip(scaled));
    }

    @Test
    void invalidJsonIsRejectedNamingTheValue() {
        String json =
                "{\"@class\":\"io.github.dropblock4j.dl4j.KeepProbSchedule\","
                        + "\"targetKeepProb\":1.5,\"totalIterations\":10}";
        Exception e =
                assertThrows(
                        Exception.class,
                        () -> JsonMappers.getMapper().readValue(json, ISchedule.class));
        assertTrue(
                e.getMessage().contains("targetKeepProb must be in (0, 1], got 1.5"),
                e.getMessage());
    }

    static Object javaRoundTrip(Object value) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
