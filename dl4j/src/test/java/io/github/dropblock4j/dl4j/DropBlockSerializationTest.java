package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.ScaleMode;
import java.io.File;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.serde.JsonMappers;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class DropBlockSerializationTest {

    /** Every option away from its default, and a schedule. */
    private static final DropBlock EVERY_OPTION =
            new DropBlock(KeepProbSchedule.dropScaled(KeepProbSchedule.linear(0.85, 500), 0.25), 5)
                    .withBlockSize(3, 5)
                    .withGamma(GammaMode.PAPER)
                    .withScale(ScaleMode.EXPECTED)
                    .withMask(MaskSharing.PER_SAMPLE);

    private static final DropBlock FIXED = new DropBlock(0.9, 7);

    /** A block fraction instead of a size, and the ND4J mask path. */
    private static final DropBlock RELATIVE =
            new DropBlock(0.9, 7).withBlockFraction(0.25, 0.5).withEngineMask(true);

    private static MultiLayerConfiguration multiLayer() {
        return new NeuralNetConfiguration.Builder()
                .seed(3)
                .updater(new Sgd(0.05))
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).dropOut(FIXED).build())
                .layer(new DropoutLayer.Builder(EVERY_OPTION).build())
                .layer(new DropoutLayer.Builder(FIXED.withChannelsLast(true)).build())
                .layer(new DropoutLayer.Builder(RELATIVE).build())
                .layer(new GlobalPoolingLayer.Builder().build())
                .layer(
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build())
                .setInputType(InputType.convolutional(12, 12, 2))
                .build();
    }

    private static ComputationGraphConfiguration graph() {
        return new NeuralNetConfiguration.Builder()
                .seed(3)
                .updater(new Sgd(0.05))
                .graphBuilder()
                .addInputs("in")
                .addLayer(
                        "conv",
                        new ConvolutionLayer.Builder(3, 3).nOut(4).dropOut(FIXED).build(),
                        "in")
                .addLayer("drop", new DropoutLayer.Builder(EVERY_OPTION).build(), "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "drop")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "pool")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(12, 12, 2))
                .build();
    }

    @Test
    void multiLayerConfigurationRoundTripsThroughJson() {
        MultiLayerConfiguration conf = multiLayer();
        String json = conf.toJson();
        assertTrue(json.contains("io.github.dropblock4j.dl4j.DropBlock"), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertEquals(FIXED, back.getConf(0).getLayer().getIDropout());
        assertEquals(EVERY_OPTION, back.getConf(1).getLayer().getIDropout());
        assertEquals(FIXED.withChannelsLast(true), back.getConf(2).getLayer().getIDropout());
        assertEquals(RELATIVE, back.getConf(3).getLayer().getIDropout());
        assertEquals(json, back.toJson());
    }

    @Test
    void graphConfigurationRoundTripsThroughJsonAndYaml() {
        ComputationGraphConfiguration conf = graph();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        assertEquals(conf, ComputationGraphConfiguration.fromYaml(conf.toYaml()));
    }

    @Test
    void dropBlockRoundTripsThroughJavaSerializationWithoutItsMask() throws Exception {
        DropBlock dropBlock = EVERY_OPTION.clone();
        INDArray x = Nd4j.ones(DataType.FLOAT, 2, 3, 10, 10);
        dropBlock.applyDropout(x, x.ulike(), 600, 1, LayerWorkspaceMgr.noWorkspaces());
        DropBlock back = (DropBlock) KeepProbScheduleTest.javaRoundTrip(dropBlock);
        assertNotSame(dropBlock, back);
        assertEquals(dropBlock, back);
        assertThrows(IllegalStateException.class, () -> back.backprop(x, x.ulike(), 600, 1));
        assertEquals(multiLayer(), KeepProbScheduleTest.javaRoundTrip(multiLayer()));
    }

    @Test
    void invalidJsonIsRejectedNamingTheValue() {
        String json =
                "{\"@class\":\"io.github.dropblock4j.dl4j.DropBlock\",\"keepProb\":1.5,"
                        + "\"blockSize\":[7],\"gammaMode\":\"CALIBRATED\",\"scaleMode\":\"BATCH\","
                        + "\"maskSharing\":\"PER_CHANNEL\",\"channelsLast\":false}";
        Exception e =
                assertThrows(
                        Exception.class,
                        () -> JsonMappers.getMapper().readValue(json, IDropout.class));
        assertTrue(e.getMessage().contains("keepProb must be in (0, 1], got 1.5"), e.getMessage());
    }

    @Test
    void jsonWithBothABlockSizeAndAFractionIsRejected() {
        String json =
                "{\"@class\":\"io.github.dropblock4j.dl4j.DropBlock\",\"keepProb\":0.9,"
                        + "\"blockSize\":[7],\"blockFraction\":[0.25],\"gammaMode\":\"CALIBRATED\","
                        + "\"scaleMode\":\"BATCH\",\"maskSharing\":\"PER_CHANNEL\","
                        + "\"channelsLast\":false}";
        Exception e =
                assertThrows(
                        Exception.class,
                        () -> JsonMappers.getMapper().readValue(json, IDropout.class));
        assertTrue(
                e.getMessage()
                        .contains("blockSize and blockFraction are exclusive, got [7] and [0.25]"),
                e.getMessage());
    }

    @Test
    void multiLayerNetworkRoundTripsThroughModelSerializerAndTrainsOn(@TempDir File dir)
            throws Exception {
        MultiLayerNetwork net = new MultiLayerNetwork(multiLayer());
        net.init();
        DataSet batch = batch();
        net.fit(batch);
        File file = new File(dir, "net.zip");
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(net.getLayerWiseConfigurations(), back.getLayerWiseConfigurations());
        assertEquals(net.params(), back.params());
        assertEquals(net.output(batch.getFeatures()), back.output(batch.getFeatures()));
        back.fit(batch);
        assertTrue(Double.isFinite(back.score()));
    }

    @Test
    void computationGraphRoundTripsThroughModelSerializerAndTrainsOn(@TempDir File dir)
            throws Exception {
        ComputationGraph net = new ComputationGraph(graph());
        net.init();
        DataSet batch = batch();
        net.fit(batch);
        File file = new File(dir, "graph.zip");
        ModelSerializer.writeModel(net, file, true);
        ComputationGraph back = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(net.getConfiguration(), back.getConfiguration());
        assertEquals(net.params(), back.params());
        back.fit(batch);
        assertTrue(Double.isFinite(back.score()));
    }

    private static DataSet batch() {
        Nd4j.getRandom().setSeed(11);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 8, 2);
        labels.getColumn(0).assign(1);
        return new DataSet(Nd4j.rand(DataType.FLOAT, 8, 2, 12, 12), labels);
    }
}
