package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class ResNetDropBlockTest {

    private static ResNetDropBlock.Builder resNet20() {
        return ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(1, 28, 28);
    }

    private static ResNetDropBlock.Builder resNet50() {
        return ResNetDropBlock.builder()
                .setNumLayers(50)
                .setOutSize(1000)
                .setImageShape(3, 224, 224);
    }

    private static Layer layer(ComputationGraphConfiguration conf, String vertex) {
        GraphVertex v = conf.getVertices().get(vertex);
        return v instanceof LayerVertex ? ((LayerVertex) v).getLayerConf().getLayer() : null;
    }

    private static DropBlock dropBlockOf(ComputationGraphConfiguration conf, String vertex) {
        Layer layer = layer(conf, vertex);
        return layer instanceof DropoutLayer && layer.getIDropout() instanceof DropBlock
                ? (DropBlock) layer.getIDropout()
                : null;
    }

    /**
     * DropBlocks in one stage: {residual branch, shortcut}. A DropBlock is on a unit's shortcut
     * when the path from it to the unit's add vertex is the add's second input.
     */
    private static int[] countInStage(ComputationGraphConfiguration conf, int stage) {
        int branch = 0;
        int shortcut = 0;
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            String name = e.getKey();
            if (!name.startsWith("s" + stage + "u") || dropBlockOf(conf, name) == null) {
                continue;
            }
            String unit = name.substring(0, name.indexOf('_') + 1);
            List<String> addInputs = conf.getVertexInputs().get(unit + "add");
            if (reaches(conf, addInputs.get(1), name, unit)) {
                shortcut++;
            } else if (reaches(conf, addInputs.get(0), name, unit)) {
                branch++;
            }
        }
        return new int[] {branch, shortcut};
    }

    /** Whether walking back from {@code from} within the unit meets {@code target}. */
    private static boolean reaches(
            ComputationGraphConfiguration conf, String from, String target, String unit) {
        if (from.equals(target)) {
            return true;
        }
        if (!from.startsWith(unit)) {
            return false;
        }
        for (String input : conf.getVertexInputs().get(from)) {
            if (reaches(conf, input, target, unit)) {
                return true;
            }
        }
        return false;
    }

    private static long countAll(ComputationGraphConfiguration conf) {
        return conf.getVertices().keySet().stream()
                .filter(v -> dropBlockOf(conf, v) != null)
                .count();
    }

    @Test
    void defaultPlacementIsLastTwoStagesOnBothBranches() {
        // ResNet-20: 3 stages of 3 basic units; 2 branch DropBlocks and 1 shortcut DropBlock each.
        ComputationGraphConfiguration conf = resNet20().build();
        assertArrayEquals(new int[] {0, 0}, countInStage(conf, 1));
        assertArrayEquals(new int[] {6, 3}, countInStage(conf, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(conf, 3));
        assertEquals(18, countAll(conf));
    }

    @Test
    void everyDropBlockFollowsABatchNormOrSitsOnAShortcut() {
        ComputationGraphConfiguration conf = resNet20().optDropBlockStages(1, 2, 3).build();
        for (String vertex : conf.getVertices().keySet()) {
            if (dropBlockOf(conf, vertex) == null) {
                continue;
            }
            String input = conf.getVertexInputs().get(vertex).get(0);
            boolean afterBatchNorm = layer(conf, input) instanceof BatchNormalization;
            assertTrue(
                    afterBatchNorm || vertex.endsWith("shortcut_drop"), vertex + " after " + input);
        }
        assertEquals(List.of(), DropoutPlacement.check(conf));
    }

    @Test
    void lastStageOnlyAndNoShortcut() {
        ComputationGraphConfiguration lastOnly = resNet20().optDropBlockStages(3).build();
        assertArrayEquals(new int[] {0, 0}, countInStage(lastOnly, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(lastOnly, 3));
        ComputationGraphConfiguration noShortcut = resNet20().optDropBlockOnShortcut(false).build();
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 2));
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 3));
        assertEquals(0, countAll(resNet20().optDropBlockStages().build()));
    }

    @Test
    void resNet50GetsDropBlockInGroupsThreeAndFour() {
        // Bottleneck units: 3 branch DropBlocks + 1 shortcut; groups of 3, 4, 6, 3 units.
        ComputationGraphConfiguration conf = resNet50().build();
        assertArrayEquals(new int[] {0, 0}, countInStage(conf, 1));
        assertArrayEquals(new int[] {0, 0}, countInStage(conf, 2));
        assertArrayEquals(new int[] {18, 6}, countInStage(conf, 3));
        assertArrayEquals(new int[] {9, 3}, countInStage(conf, 4));
        ComputationGraphConfiguration group4 =
                resNet50().optDropBlockStages(4).optDropBlockOnShortcut(false).build();
        assertArrayEquals(new int[] {0, 0}, countInStage(group4, 3));
        assertArrayEquals(new int[] {9, 0}, countInStage(group4, 4));
    }

    @Test
    void blockSizeIsClippedToEachStagesFeatureMap() {
        // 28x28 input: stages at 28, 14 and 7 pixels.
        ComputationGraphConfiguration conf =
                resNet20().optBlockSize(9).optDropBlockStages(1, 2, 3).build();
        assertArrayEquals(new int[] {9}, dropBlockOf(conf, "s1u0_drop1").getBlockSize());
        assertArrayEquals(new int[] {9}, dropBlockOf(conf, "s2u0_drop1").getBlockSize());
        assertArrayEquals(new int[] {7}, dropBlockOf(conf, "s3u0_drop1").getBlockSize());
    }

    @Test
    void eachStageGetsItsOwnBlockSizeOrFraction() {
        ComputationGraphConfiguration perStage =
                resNet20().optDropBlockStages(3, 2).optBlockSizePerStage(3, 5).build();
        assertArrayEquals(new int[] {5}, dropBlockOf(perStage, "s2u0_drop1").getBlockSize());
        assertArrayEquals(
                new int[] {5}, dropBlockOf(perStage, "s2u2_shortcut_drop").getBlockSize());
        assertArrayEquals(new int[] {3}, dropBlockOf(perStage, "s3u1_drop2").getBlockSize());
        ComputationGraphConfiguration fractions =
                resNet20().optBlockFractionPerStage(0.5, 0.25).build();
        assertArrayEquals(
                new double[] {0.5}, dropBlockOf(fractions, "s2u0_drop1").getBlockFraction());
        assertArrayEquals(
                new double[] {0.25}, dropBlockOf(fractions, "s3u0_drop1").getBlockFraction());
        assertEquals(null, dropBlockOf(fractions, "s3u0_drop1").getBlockSize());
        assertEquals(
                "blockSize and blockFraction are exclusive, got [5] and [0.25]",
                message(resNet20().optBlockSize(5).optBlockFraction(0.25)));
        assertEquals(
                "blockSize must have 1 entry or one per DropBlock stage (2 for stages [2, 3]),"
                        + " got [3, 5, 7]",
                message(resNet20().optBlockSizePerStage(3, 5, 7)));
    }

    @Test
    void keepProbAndScheduleReachEveryDropBlock() {
        ComputationGraphConfiguration fixed = resNet20().optKeepProb(0.8).build();
        assertEquals(0.8, dropBlockOf(fixed, "s2u1_shortcut_drop").getKeepProb());
        KeepProbSchedule schedule = KeepProbSchedule.linear(0.9, 1000);
        ComputationGraphConfiguration scheduled = resNet20().optKeepProbSchedule(schedule).build();
        for (String vertex : scheduled.getVertices().keySet()) {
            DropBlock dropBlock = dropBlockOf(scheduled, vertex);
            if (dropBlock != null) {
                assertEquals(schedule, dropBlock.getKeepProbSchedule(), vertex);
            }
        }
    }

    @Test
    void stageScalingFollowsTheTfReference() {
        // Stage g of S drops (1 - keep) / 4^(S - g).
        ComputationGraphConfiguration conf =
                resNet20()
                        .optKeepProb(0.8)
                        .optStageScaling(true)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        assertEquals(1 - 0.2 / 16, dropBlockOf(conf, "s1u0_drop1").getKeepProb(), 1e-15);
        assertEquals(1 - 0.2 / 4, dropBlockOf(conf, "s2u0_drop1").getKeepProb(), 1e-15);
        assertEquals(0.8, dropBlockOf(conf, "s3u0_drop1").getKeepProb(), 1e-15);
        ComputationGraphConfiguration scheduled =
                resNet20()
                        .optKeepProbSchedule(KeepProbSchedule.linear(0.8, 100))
                        .optStageScaling(true)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        assertEquals(1 - 0.2 / 16, dropBlockOf(scheduled, "s1u2_drop2").keepProbAt(100, 0), 1e-15);
        assertEquals(1 - 0.1 / 4, dropBlockOf(scheduled, "s2u2_drop2").keepProbAt(50, 0), 1e-15);
        assertEquals(0.8, dropBlockOf(scheduled, "s3u2_drop2").keepProbAt(100, 0), 1e-15);
    }

    @ParameterizedTest
    @CsvSource({
        "20, 1, 28",
        "32, 3, 32",
        "44, 1, 28",
        "56, 3, 32",
        "110, 1, 28",
        "18, 3, 64",
        "34, 3, 64",
        "50, 3, 64",
        "101, 3, 64",
        "152, 3, 64",
        "18, 1, 28",
        // A CIFAR depth on a large image: the downsampling stem must keep the 16 filters that
        // stage 1's identity shortcuts add to.
        "20, 3, 64",
        "56, 1, 48"
    })
    void everyDepthEndsInTheClasses(int depth, int channels, int size) {
        ComputationGraphConfiguration conf =
                ResNetDropBlock.builder()
                        .setNumLayers(depth)
                        .setOutSize(7)
                        .setImageShape(channels, size, size)
                        .build();
        Map<String, InputType> types =
                conf.getLayerActivationTypes(InputType.convolutional(size, size, channels));
        assertEquals(InputType.feedForward(7), types.get("output"));
    }

    @ParameterizedTest
    @CsvSource({"20, 1, 28", "50, 3, 64"})
    void networkTrainsAndEvaluatesAsTheIdentityOfItsDropBlocks(int depth, int channels, int size) {
        ComputationGraphConfiguration conf =
                ResNetDropBlock.builder()
                        .setNumLayers(depth)
                        .setOutSize(3)
                        .setImageShape(channels, size, size)
                        .optKeepProb(0.5)
                        .optUpdater(new Adam(1e-3))
                        .optSeed(5)
                        .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, channels, size, size);
        INDArray labels = Nd4j.create(new float[][] {{1, 0, 0}, {0, 0, 1}});
        INDArray before = net.outputSingle(x);
        assertArrayEquals(new long[] {2, 3}, before.shape());
        assertEquals(before, net.outputSingle(x));
        net.fit(new DataSet(x, labels));
        assertTrue(Double.isFinite(net.score()));
        assertNotEquals(before, net.outputSingle(x));
    }

    @Test
    void lastBatchNormOfEachBranchStartsAtGammaZero() {
        ComputationGraph net =
                new ComputationGraph(resNet20().optSeed(1).optUpdater(new Adam(1e-2)).build());
        net.init();
        assertEquals(0.0, net.getParam("s1u0_bn2_gamma").sumNumber().doubleValue());
        assertEquals(0.0, net.getParam("s3u2_bn2_gamma").amaxNumber().doubleValue());
        assertEquals(16.0, net.getParam("s1u0_bn1_gamma").sumNumber().doubleValue());
        assertEquals(64.0, net.getParam("s3u0_proj_bn_gamma").sumNumber().doubleValue());
        // The initial value of a learned gamma, not a locked one: one step moves it.
        Nd4j.getRandom().setSeed(2);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 4, 10);
        labels.getColumn(3).assign(1);
        net.fit(new DataSet(Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28), labels));
        assertTrue(net.getParam("s1u0_bn2_gamma").amaxNumber().doubleValue() > 0);
    }

    @Test
    void theGraphHasOneAddPerResidualUnit() {
        ComputationGraphConfiguration conf = resNet20().build();
        long adds =
                conf.getVertices().values().stream()
                        .filter(v -> v instanceof ElementWiseVertex)
                        .count();
        assertEquals(9, adds);
        assertSame(conf.getVertices().get("s1u0_add").getClass(), ElementWiseVertex.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 19, 21, 200})
    void unknownDepthIsRejected(int depth) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ResNetDropBlock.builder()
                                        .setNumLayers(depth)
                                        .setOutSize(10)
                                        .setImageShape(1, 28, 28)
                                        .build());
        assertEquals(
                "numLayers must be one of [18, 34, 50, 101, 152] (ImageNet family) or [20, 32, 44,"
                        + " 56, 110] (CIFAR family), got "
                        + depth,
                e.getMessage());
    }

    @Test
    void badOptionsAreRejectedWithTheirValues() {
        assertEquals(
                "dropBlockStages must be in [1, 3] for a 20-layer ResNet, got [4]",
                message(resNet20().optDropBlockStages(4)));
        assertEquals("outSize must be >= 1, got 0", message(resNet20().setOutSize(0)));
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got (1, 0, 28)",
                message(resNet20().setImageShape(1, 0, 28)));
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got null",
                message(ResNetDropBlock.builder().setNumLayers(20).setOutSize(10)));
        assertEquals("keepProb must be in (0, 1], got 0.0", message(resNet20().optKeepProb(0)));
        assertEquals("blockSize must be >= 1, got [0]", message(resNet20().optBlockSize(0)));
        assertEquals(
                "batchNormMomentum must be in [0, 1), got 1.0",
                message(resNet20().optBatchNormMomentum(1)));
        assertEquals("weightDecay must be >= 0, got -1.0", message(resNet20().optWeightDecay(-1)));
        assertEquals("updater must not be null, got null", message(resNet20().optUpdater(null)));
    }

    private static String message(ResNetDropBlock.Builder builder) {
        return assertThrows(IllegalArgumentException.class, builder::build).getMessage();
    }
}
