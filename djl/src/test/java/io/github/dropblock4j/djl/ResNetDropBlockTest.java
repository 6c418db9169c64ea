package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import io.github.dropblock4j.core.ResNetLayout;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
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
            branch +=
                    DropBlockScheduler.dropBlocksIn(parallel.getChildren().get(0).getValue())
                            .size();
            shortcut +=
                    DropBlockScheduler.dropBlocksIn(parallel.getChildren().get(1).getValue())
                            .size();
        }
        return new int[] {branch, shortcut};
    }

    @Test
    void defaultPlacementIsLastTwoStagesOnBothBranches() {
        // ResNet-20: 3 stages of 3 basic units; 2 branch DropBlocks and 1 shortcut DropBlock each.
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .build();
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 1));
        assertArrayEquals(new int[] {6, 3}, countInStage(net, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(net, 3));
        assertEquals(18, DropBlockScheduler.dropBlocksIn(net).size());
    }

    @Test
    void lastStageOnlyAndNoShortcut() {
        Block lastOnly =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropBlockStages(3)
                        .build();
        assertArrayEquals(new int[] {0, 0}, countInStage(lastOnly, 2));
        assertArrayEquals(new int[] {6, 3}, countInStage(lastOnly, 3));
        Block noShortcut =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropBlockOnShortcut(false)
                        .build();
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 2));
        assertArrayEquals(new int[] {6, 0}, countInStage(noShortcut, 3));
        Block none =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropBlockStages()
                        .build();
        assertEquals(0, DropBlockScheduler.dropBlocksIn(none).size());
    }

    @Test
    void resNet50GetsDropBlockInGroupsThreeAndFour() {
        // Bottleneck units: 3 branch DropBlocks + 1 shortcut; groups of 3, 4, 6, 3 units.
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(50)
                        .setOutSize(1000)
                        .setImageShape(new Shape(3, 224, 224))
                        .build();
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 1));
        assertArrayEquals(new int[] {0, 0}, countInStage(net, 2));
        assertArrayEquals(new int[] {18, 6}, countInStage(net, 3));
        assertArrayEquals(new int[] {9, 3}, countInStage(net, 4));
        Block group4 =
                ResNetDropBlock.builder()
                        .setNumLayers(50)
                        .setOutSize(1000)
                        .setImageShape(new Shape(3, 224, 224))
                        .optDropBlockStages(4)
                        .optDropBlockOnShortcut(false)
                        .build();
        assertArrayEquals(new int[] {0, 0}, countInStage(group4, 3));
        assertArrayEquals(new int[] {9, 0}, countInStage(group4, 4));
    }

    @Test
    void blockSizeIsLeftForEachDropBlockToClipPerDimension() {
        // 28x28 input: stages at 28, 14 and 7 pixels; every DropBlock clips 9 to its own map.
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optBlockSize(9)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        for (DropBlock dropBlock : DropBlockScheduler.dropBlocksIn(net)) {
            assertArrayEquals(new int[] {9}, dropBlock.getBlockSize());
        }
    }

    static Stream<Integer> depths() {
        return ResNetDropBlock.DEPTHS.stream();
    }

    @ParameterizedTest
    @MethodSource("depths")
    void numStagesAndDepthMatchTheBuiltNetwork(int depth) {
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(depth)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .build();
        int numStages = ResNetDropBlock.numStages(depth);
        assertEquals(ResNetLayout.Family.of(depth).numStages(), numStages);
        // The stem, one group per stage, then the global pool, the flattening and the linear.
        assertEquals(1 + numStages + 3, net.getChildren().size());
        // Depth counts the stem's convolution, those of every residual branch and the linear.
        int layers = countConvolutions(net.getChildren().get(0).getValue()) + 1;
        for (int stage = 1; stage <= numStages; stage++) {
            for (Block unit : net.getChildren().get(stage).getValue().getChildren().values()) {
                Block parallel = unit.getChildren().get(0).getValue();
                layers += countConvolutions(parallel.getChildren().get(0).getValue());
            }
        }
        assertEquals(depth, layers);
    }

    private static int countConvolutions(Block block) {
        int n = block instanceof Conv2d ? 1 : 0;
        for (Block child : block.getChildren().values()) {
            n += countConvolutions(child);
        }
        return n;
    }

    @Test
    void eachStageGetsItsOwnBlockSizeOrFraction() {
        ResNetDropBlock.Builder builder =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropBlockStages(3, 2);
        Block perStage = builder.optBlockSizePerStage(3, 5).build();
        for (int stage = 1; stage <= 3; stage++) {
            for (DropBlock d :
                    DropBlockScheduler.dropBlocksIn(perStage.getChildren().get(stage).getValue())) {
                assertArrayEquals(new int[] {stage == 3 ? 3 : 5}, d.getBlockSize());
            }
        }
        Block fractions =
                builder.optBlockSizePerStage((int[]) null)
                        .optBlockFractionPerStage(0.25, 0.5)
                        .build();
        List<DropBlock> inStage2 =
                DropBlockScheduler.dropBlocksIn(fractions.getChildren().get(2).getValue());
        assertEquals(9, inStage2.size());
        for (DropBlock d : inStage2) {
            assertArrayEquals(new double[] {0.5}, d.getBlockFraction());
        }
        Block oneFraction = builder.optBlockFraction(0.25).build();
        for (DropBlock d : DropBlockScheduler.dropBlocksIn(oneFraction)) {
            assertArrayEquals(new double[] {0.25}, d.getBlockFraction());
        }
        assertEquals(
                "blockSize and blockFraction are exclusive, got [5] and [0.25]",
                assertThrows(IllegalArgumentException.class, () -> builder.optBlockSize(5).build())
                        .getMessage());
        assertEquals(
                "blockSize must have 1 entry or one per DropBlock stage (2 for stages [3, 2]),"
                        + " got [3, 5, 7]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        builder.optBlockFractionPerStage((double[]) null)
                                                .optBlockSizePerStage(3, 5, 7)
                                                .build())
                        .getMessage());
    }

    @Test
    void depthsAreTheTwoFamiliesInIncreasingOrder() {
        assertEquals(List.of(18, 20, 32, 34, 44, 50, 56, 101, 110, 152), ResNetDropBlock.DEPTHS);
        assertEquals(4, ResNetDropBlock.numStages(50));
        assertEquals(4, ResNetDropBlock.numStages(152));
        assertEquals(3, ResNetDropBlock.numStages(56));
        assertEquals(
                "depth must be one of [18, 34, 50, 101, 152] (ImageNet family) or"
                        + " [20, 32, 44, 56, 110] (CIFAR family), got 26",
                assertThrows(IllegalArgumentException.class, () -> ResNetDropBlock.numStages(26))
                        .getMessage());
    }

    @Test
    void blockLargerThanEveryMapDropsWholeChannelsOnANonSquareInput() {
        // A 28x20 image: the stages see 28x20, 14x10 and 7x5 maps, all smaller than the block.
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(new Shape(1, 28, 20))
                        .optBlockSize(64)
                        .optDropProb(0.5f)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        Set<Shape> maps = new HashSet<>();
        int[] channels = new int[2];
        forwardSeeingDropBlocks(
                net,
                new Shape(4, 1, 28, 20),
                (x, y) -> {
                    Shape shape = x.getShape();
                    maps.add(shape.slice(2));
                    int plane = (int) (shape.get(2) * shape.get(3));
                    float[] in = x.toFloatArray();
                    float[] out = y.toFloatArray();
                    for (int start = 0; start < in.length; start += plane) {
                        int live = 0;
                        int dropped = 0;
                        for (int i = start; i < start + plane; i++) {
                            live += in[i] != 0f ? 1 : 0;
                            dropped += in[i] != 0f && out[i] == 0f ? 1 : 0;
                        }
                        assertTrue(
                                dropped == 0 || dropped == live,
                                shape + ": " + dropped + " of " + live + " units dropped");
                        if (live > 0) {
                            channels[dropped == 0 ? 0 : 1]++;
                        }
                    }
                });
        assertEquals(Set.of(new Shape(28, 20), new Shape(14, 10), new Shape(7, 5)), maps);
        assertTrue(channels[0] > 0 && channels[1] > 0, Arrays.toString(channels));
    }

    @Test
    void blockSizeOneDropsUnitsIndependentlyInsideTheNetwork() {
        // Disjoint horizontal pairs of live units are both dropped with probability p^2 when
        // units drop independently (p when they drop in blocks). Pairs are independent Bernoulli
        // trials, so the standard error is sqrt(p^2 (1 - p^2) / pairs), about 4e-4 for the
        // quarter million pairs seen here; the tolerance is 4 of those.
        float p = 0.2f;
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optBlockSize(1)
                        .optDropProb(p)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        long[] pairs = new long[2];
        forwardSeeingDropBlocks(
                net,
                new Shape(8, 1, 28, 28),
                (x, y) -> {
                    float[] in = x.toFloatArray();
                    float[] out = y.toFloatArray();
                    for (int i = 0; i + 1 < in.length; i += 2) {
                        if (in[i] != 0f && in[i + 1] != 0f) {
                            pairs[0]++;
                            pairs[1] += out[i] == 0f && out[i + 1] == 0f ? 1 : 0;
                        }
                    }
                });
        double expected = p * p;
        double standardError = Math.sqrt(expected * (1 - expected) / pairs[0]);
        assertTrue(pairs[0] > 100_000, "too few pairs: " + pairs[0]);
        assertEquals(expected, (double) pairs[1] / pairs[0], 4 * standardError);
    }

    /**
     * Initialises {@code net} and runs one training forward of a random batch through it block by
     * block, handing the input and output of every DropBlock to {@code seen}.
     */
    private static void forwardSeeingDropBlocks(
            Block net, Shape input, BiConsumer<NDArray, NDArray> seen) {
        Engine.getInstance().setRandomSeed(17);
        try (NDManager manager = NDManager.newBaseManager()) {
            net.initialize(manager, DataType.FLOAT32, input);
            NDArray x = manager.randomUniform(0f, 1f, input);
            forwardSeeing(net, x, new ParameterStore(manager, false), seen);
        }
    }

    private static NDArray forwardSeeing(
            Block block, NDArray x, ParameterStore store, BiConsumer<NDArray, NDArray> seen) {
        if (block instanceof SequentialBlock) {
            NDArray y = x;
            for (Block child : block.getChildren().values()) {
                y = forwardSeeing(child, y, store, seen);
            }
            return y;
        }
        if (block instanceof ParallelBlock) {
            // A residual unit: the branch and the shortcut, joined by their sum.
            NDArray sum = null;
            for (Block child : block.getChildren().values()) {
                NDArray y = forwardSeeing(child, x, store, seen);
                sum = sum == null ? y : sum.add(y);
            }
            return sum;
        }
        NDArray y = block.forward(store, new NDList(x), true).singletonOrThrow();
        if (block instanceof DropBlock) {
            seen.accept(x, y);
        }
        return y;
    }

    @Test
    void stageScalingFollowsTheTfReference() {
        // Stage g of S gets dropProb / 4^(S - g).
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropProb(0.2f)
                        .optStageScaling(true)
                        .optDropBlockStages(1, 2, 3)
                        .build();
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
    void forwardShapeForEveryDepth(int depth, int channels, int size) {
        Shape image = new Shape(channels, size, size);
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(depth)
                        .setOutSize(7)
                        .setImageShape(image)
                        .build();
        try (NDManager manager = NDManager.newBaseManager()) {
            Shape input = new Shape(2, channels, size, size);
            net.initialize(manager, DataType.FLOAT32, input);
            NDArray x = manager.randomUniform(0f, 1f, input);
            NDArray y =
                    net.forward(new ParameterStore(manager, false), new NDList(x), true)
                            .singletonOrThrow();
            assertEquals(new Shape(2, 7), y.getShape());
            assertEquals(new Shape(2, 7), net.getOutputShapes(new Shape[] {input})[0]);
        }
    }

    @Test
    void everyDropBlockIsAnIdentityInEvaluation() {
        Block net =
                ResNetDropBlock.builder()
                        .setNumLayers(20)
                        .setOutSize(10)
                        .setImageShape(SMALL_IMAGE)
                        .optDropBlockStages(1, 2, 3)
                        .build();
        List<DropBlock> dropBlocks = DropBlockScheduler.dropBlocksIn(net);
        try (NDManager manager = NDManager.newBaseManager()) {
            Shape input = new Shape(4, 1, 28, 28);
            net.initialize(manager, DataType.FLOAT32, input);
            NDArray x = manager.randomUniform(0f, 1f, input);
            ParameterStore store = new ParameterStore(manager, false);
            dropBlocks.forEach(d -> d.setDropProb(0f));
            float[] withoutDrop =
                    net.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
            dropBlocks.forEach(d -> d.setDropProb(0.9f));
            float[] withDrop =
                    net.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
            assertArrayEquals(withoutDrop, withDrop);
        }
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
                                        .setImageShape(SMALL_IMAGE)
                                        .build());
        assertEquals(
                "numLayers must be one of [18, 34, 50, 101, 152] (ImageNet family) or [20, 32, 44, 56, 110]"
                        + " (CIFAR family), got "
                        + depth,
                e.getMessage());
    }

    @Test
    void badOptionsAreRejectedWithTheirValues() {
        assertEquals(
                "dropBlockStages must be in [1, 3] for a 20-layer ResNet, got [4]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        ResNetDropBlock.builder()
                                                .setNumLayers(20)
                                                .setOutSize(10)
                                                .setImageShape(SMALL_IMAGE)
                                                .optDropBlockStages(4)
                                                .build())
                        .getMessage());
        assertEquals(
                "outSize must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        ResNetDropBlock.builder()
                                                .setNumLayers(20)
                                                .setOutSize(0)
                                                .setImageShape(SMALL_IMAGE)
                                                .build())
                        .getMessage());
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got (28, 28)",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        ResNetDropBlock.builder()
                                                .setNumLayers(20)
                                                .setOutSize(10)
                                                .setImageShape(new Shape(28, 28))
                                                .build())
                        .getMessage());
        assertEquals(
                "dropProb must be in [0, 1), got 1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        ResNetDropBlock.builder()
                                                .setNumLayers(20)
                                                .setOutSize(10)
                                                .setImageShape(SMALL_IMAGE)
                                                .optDropProb(1f)
                                                .build())
                        .getMessage());
        assertEquals(
                "blockSize must be >= 1, got [0]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        ResNetDropBlock.builder()
                                                .setNumLayers(20)
                                                .setOutSize(10)
                                                .setImageShape(SMALL_IMAGE)
                                                .optBlockSize(0)
                                                .build())
                        .getMessage());
    }
}
