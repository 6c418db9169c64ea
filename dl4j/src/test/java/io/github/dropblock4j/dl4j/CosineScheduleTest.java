package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.serde.JsonMappers;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;

class CosineScheduleTest {

    // A few roundings in initial * (1 + cos(pi * t / T)) / 2, each within one ulp of 0.1.
    private static final double EPS = 1e-15;

    @Test
    void followsTheHalfCosineToZeroThenHolds() {
        CosineSchedule schedule = new CosineSchedule(0.1, 1000);
        assertEquals(0.1, schedule.valueAt(0, 0));
        assertEquals(0.1 * (1 + Math.sqrt(0.5)) / 2, schedule.valueAt(250, 0), EPS);
        assertEquals(0.05, schedule.valueAt(500, 0), EPS);
        assertEquals(0.0, schedule.valueAt(1000, 0));
        assertEquals(0.0, schedule.valueAt(5000, 0));
        for (int t = 1; t <= 1000; t++) {
            assertTrue(schedule.valueAt(t, 0) <= schedule.valueAt(t - 1, 0), "step " + t);
        }
    }

    @Test
    void epochDoesNotMatterAndNegativeIterationsStartTheCurve() {
        CosineSchedule schedule = new CosineSchedule(0.2, 10);
        assertEquals(schedule.valueAt(3, 0), schedule.valueAt(3, 9));
        assertEquals(0.2, schedule.valueAt(-5, 0));
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.1, Double.NaN, Double.POSITIVE_INFINITY})
    void badInitialValueIsRejectedNamingIt(double initial) {
        assertEquals(
                "initialValue must be finite and >= 0, got " + initial,
                assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(initial, 10))
                        .getMessage());
    }

    @Test
    void badIterationCountIsRejectedNamingIt() {
        assertEquals(
                "totalIterations must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(0.1, 0))
                        .getMessage());
    }

    @Test
    void comparesByContentAndCloneIsItself() {
        CosineSchedule schedule = new CosineSchedule(0.1, 10);
        assertEquals(new CosineSchedule(0.1, 10), schedule);
        assertEquals(new CosineSchedule(0.1, 10).hashCode(), schedule.hashCode());
        assertNotEquals(new CosineSchedule(0.1, 11), schedule);
        assertNotEquals(new CosineSchedule(0.2, 10), schedule);
        assertSame(schedule, schedule.clone());
        assertEquals("CosineSchedule(0.1, 10)", schedule.toString());
    }

    @Test
    void roundTripsThroughDl4jJsonAndJavaSerialization() throws Exception {
        ISchedule schedule = new CosineSchedule(0.05, 1234);
        String json = JsonMappers.getMapper().writeValueAsString(schedule);
        assertTrue(json.contains("\"io.github.dropblock4j.dl4j.CosineSchedule\""), json);
        assertEquals(schedule, JsonMappers.getMapper().readValue(json, ISchedule.class));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(schedule);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(schedule, in.readObject());
        }
    }

    @Test
    void invalidJsonIsRejectedNamingTheValue() {
        String json =
                "{\"@class\":\"io.github.dropblock4j.dl4j.CosineSchedule\","
                        + "\"initialValue\":-1.0,\"totalIterations\":10}";
        Exception e =
                assertThrows(
                        Exception.class,
                        () -> JsonMappers.getMapper().readValue(json, ISchedule.class));
        assertTrue(
                e.getMessage().contains("initialValue must be finite and >= 0, got -1.0"),
                e.getMessage());
    }

    @Test
    void aSavedModelRestoresItsScheduleAndContinuesIt(@TempDir Path dir) throws Exception {
        CosineSchedule schedule = new CosineSchedule(0.1, 20);
        MultiLayerNetwork net =
                new MultiLayerNetwork(
                        new NeuralNetConfiguration.Builder()
                                .seed(5)
                                .updater(new Nesterovs(schedule, 0.9))
                                .list()
                                .layer(new DenseLayer.Builder().nIn(4).nOut(3).build())
                                .layer(
                                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                                .nIn(3)
                                                .nOut(2)
                                                .activation(Activation.SOFTMAX)
                                                .build())
                                .build());
        net.init();
        Nd4j.getRandom().setSeed(5);
        DataSet batch = new DataSet(Nd4j.rand(8, 4), Nd4j.eye(2).repeat(0, 4));
        for (int i = 0; i < 3; i++) {
            net.fit(batch);
        }
        File file = dir.resolve("model.zip").toFile();
        ModelSerializer.writeModel(net, file, true);

        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        for (int layer = 0; layer < 2; layer++) {
            BaseLayer conf = (BaseLayer) restored.getLayer(layer).conf().getLayer();
            assertEquals(schedule, ((Nesterovs) conf.getIUpdater()).getLearningRateSchedule());
        }
        assertEquals(net.params(), restored.params());
        assertEquals(
                net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        // Both continue on the same step of the schedule, so the next update is the same.
        assertEquals(3, restored.getIterationCount());
        net.fit(batch);
        restored.fit(batch);
        assertEquals(net.params(), restored.params());
    }
}
