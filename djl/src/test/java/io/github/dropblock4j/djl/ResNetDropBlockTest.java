package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResNetDropBlockTest {

    private static final Shape SMALL_IMAGE = new Shape(1, 28, 28);

    /** DropBlocks in one stage: {residual branch, shortcut}. */
    private static int[] countInStage(Block net, int stage) {
        Block group = net.getChildren().get(stage).getValue();
        int branch = 0;
        int shortcut = 0;
        for (Block unit : group.getChildren().values()) {
            Block parallel = unit.getChildren().get(0).getValue();
            branch += DropBlockScheduler.dropBlocksIn(parallel.getChildren().get(0).getValue()).size();
            shortcut += DropBlockScheduler.dropBlocksIn(parallel.getChildren().get(1).getValue()).size();
        }
        return new int[] {branch, shortcut};
    }

    @Test
    void defaultPlacementIsLastTwoStagesOnBothBranches() {
        // ResNet-20: 3 stages of 3 basic units; 2 branch DropBlocks and 1 shortcut DropBlock each.
        Block net = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE).build();
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 1));
        assertArrayEquals(new int[] {6, 3}, countInStage(net, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(net, 3));
        assertEquals(18, DropBlockScheduler.dropBlocksIn(net).size());
    }

    @Test
    void lastStageOnlyAndNoShortcut() {
        Block lastOnly = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optDropBlockStages(3).build();
        assertArrayEquals(new int[] {0, 0}, countInStage(lastOnly, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(lastOnly, 3));
        Block noShortcut = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optDropBlockOnShortcut(false).build();
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 2));
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 3));
        Block none = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optDropBlockStages().build();
        assertEquals(0, DropBlockScheduler.dropBlocksIn(none).size());
    }

    @Test
    void resNet50GetsDropBlockInGroupsThreeAndFour() {
        // Bottleneck units: 3 branch DropBlocks + 1 shortcut; groups of 3, 4, 6, 3 units.
        Block net = ResNetDropBlock.builder().setNumLayers(50).setOutSize(1000).setImageShape(new Shape(3, 224, 224))
                .build();
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 1));
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 2));
        assertArrayEquals(new int[] {18, 6}, countInStage(net, 3));
        assertArrayEquals(new int[] {9, 3}, countInStage(net, 4));
        Block group4 = ResNetDropBlock.builder().setNumLayers(50).setOutSize(1000).setImageShape(new Shape(3, 224, 224))
                .optDropBlockStages(4).optDropBlockOnShortcut(false).build();
        assertArrayEquals(new int[] {0, 0}, countInStage(group4, 3));
        assertArrayEquals(new int[] {9, 0}, countInStage(group4, 4));
    }

    @Test
    void blockSizeIsClippedToEachStagesFeatureMap() {
        // 28x28 input: stages at 28, 14 and 7 pixels.
        Block net = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optBlockSize(9).optDropBlockStages(1, 2, 3).build();
        assertArrayEquals(new int[] {9}, firstDropBlock(net, 1).getBlockSize());
        assertArrayEquals(new int[] {9}, firstDropBlock(net, 2).getBlockSize());
        assertArrayEquals(new int[] {7}, firstDropBlock(net, 3).getBlockSize());
    }

    @Test
    void stageScalingFollowsTheTfReference() {
        // Stage g of S gets dropProb / 4^(S - g).
        Block net = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optDropProb(0.2f).optStageScaling(true).optDropBlockStages(1, 2, 3).build();
        assertEquals(1f / 16, firstDropBlock(net, 1).getScheduleWeight());
        assertEquals(0.2f / 16, firstDropBlock(net, 1).getDropProb(), 1e-7);
        assertEquals(1f / 4, firstDropBlock(net, 2).getScheduleWeight());
        assertEquals(1f, firstDropBlock(net, 3).getScheduleWeight());
        assertEquals(0.2f, firstDropBlock(net, 3).getDropProb());
    }

    private static DropBlock firstDropBlock(Block net, int stage) {
        return DropBlockScheduler.dropBlocksIn(net.getChildren().get(stage).getValue()).get(0);
    }

    @ParameterizedTest
    @CsvSource({"20, 1, 28", "32, 3, 32", "44, 1, 28", "56, 3, 32", "110, 1, 28", "18, 3, 64", "34, 3, 64",
        "50, 3, 64", "101, 3, 64", "152, 3, 64", "18, 1, 28"})
    void forwardShapeForEveryDepth(int depth, int channels, int size) {
        Shape image = new Shape(channels, size, size);
        Block net = ResNetDropBlock.builder().setNumLayers(depth).setOutSize(7).setImageShape(image).build();
        try (NDManager manager = NDManager.newBaseManager()) {
            Shape input = new Shape(2, channels, size, size);
            net.initialize(manager, DataType.FLOAT32, input);
            NDArray x = manager.randomUniform(0f, 1f, input);
            NDArray y = net.forward(new ParameterStore(manager, false), new NDList(x), true).singletonOrThrow();
            assertEquals(new Shape(2, 7), y.getShape());
            assertEquals(new Shape(2, 7), net.getOutputShapes(new Shape[] {input})[0]);
        }
    }

    @Test
    void everyDropBlockIsAnIdentityInEvaluation() {
        Block net = ResNetDropBlock.builder().setNumLayers(20).setOutSize(10).setImageShape(SMALL_IMAGE)
                .optDropBlockStages(1, 2, 3).build();
        List<DropBlock> dropBlocks = DropBlockScheduler.dropBlocksIn(net);
        try (NDManager manager = NDManager.newBaseManager()) {
            Shape input = new Shape(4, 1, 28, 28);
            net.initialize(manager, DataType.FLOAT32, input);
            NDArray x = manager.randomUniform(0f, 1f, input);
            ParameterStore store = new ParameterStore(manager, false);
            dropBlocks.forEach(d -> d.setDropProb(0f));
            float[] withoutDrop = net.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
            dropBlocks.forEach(d -> d.setDropProb(0.9f));
            float[] withDrop = net.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
            assertArrayEquals(withoutDrop, withDrop);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 19, 21, 200})
    void unknownDepthIsRejected(int depth) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ResNetDropBlock.builder().setNumLayers(depth).setOutSize(10).setImageShape(SMALL_IMAGE).build());
        assertEquals("numLayers must be one of [18, 34, 50, 101, 152] (ImageNet family) or [20, 32, 44, 56, 110]"
                + " (CIFAR family), got " + depth, e.getMessage());
    }

    @Test
    void badOptionsAreRejectedWithTheirValues() {
        assertEquals("dropBlockStages must be in [1, 3] for a 20-layer ResNet, got [4]",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.builder().setNumLayers(20)
                        .setOutSize(10).setImageShape(SMALL_IMAGE).optDropBlockStages(4).build()).getMessage());
        assertEquals("outSize must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.builder().setNumLayers(20)
                        .setOutSize(0).setImageShape(SMALL_IMAGE).build()).getMessage());
        assertEquals("imageShape must be (channels, height, width) with positive sizes, got (28, 28)",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.builder().setNumLayers(20)
                        .setOutSize(10).setImageShape(new Shape(28, 28)).build()).getMessage());
        assertEquals("dropProb must be in [0, 1), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.builder().setNumLayers(20)
                        .setOutSize(10).setImageShape(SMALL_IMAGE).optDropProb(1f).build()).getMessage());
        assertEquals("blockSize must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.builder().setNumLayers(20)
                        .setOutSize(10).setImageShape(SMALL_IMAGE).optBlockSize(0).build()).getMessage());
    }
}
