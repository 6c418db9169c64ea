package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ResNetLayoutTest {

    static List<Integer> depths() {
        return ResNetLayout.DEPTHS;
    }

    @Test
    void depthsAreBothFamiliesInIncreasingOrder() {
        assertEquals(List.of(18, 20, 32, 34, 44, 50, 56, 101, 110, 152), ResNetLayout.DEPTHS);
        assertEquals(List.of(18, 34, 50, 101, 152), ResNetLayout.Family.IMAGENET.depths());
        assertEquals(List.of(20, 32, 44, 56, 110), ResNetLayout.Family.CIFAR.depths());
    }

    @ParameterizedTest
    @MethodSource("depths")
    void convolutionsAndTheHeadAddUpToTheDepth(int depth) {
        ResNetLayout layout = ResNetLayout.of(depth);
        int convolutions = 0;
        for (int stage = 1; stage <= layout.numStages(); stage++) {
            for (int unit = 0; unit < layout.units(stage); unit++) {
                convolutions += layout.branch(stage, unit).size();
            }
        }
        // The stem's convolution and the output layer count as layers; shortcuts do not.
        assertEquals(depth, convolutions + 2);
    }

    @ParameterizedTest
    @MethodSource("depths")
    void branchStridesOnceInItsFirst3x3AndEndsAtTheStagesOutput(int depth) {
        ResNetLayout layout = ResNetLayout.of(depth);
        for (int stage = 1; stage <= layout.numStages(); stage++) {
            for (int unit = 0; unit < layout.units(stage); unit++) {
                List<ResNetLayout.Convolution> branch = layout.branch(stage, unit);
                assertEquals(layout.isBottleneck() ? 3 : 2, branch.size());
                ResNetLayout.Convolution first3x3 =
                        branch.stream().filter(c -> c.kernel() == 3).findFirst().orElseThrow();
                assertEquals(layout.stride(stage, unit), first3x3.stride());
                long strided = branch.stream().filter(c -> c.stride() != 1).count();
                assertEquals(layout.stride(stage, unit) == 2 ? 1 : 0, strided);
                assertEquals(layout.outFilters(stage), branch.get(branch.size() - 1).filters());
                assertTrue(branch.stream().allMatch(c -> c.kernel() == 1 || c.kernel() == 3));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("depths")
    void familyGivesStagesFiltersAndBottleneck(int depth) {
        ResNetLayout layout = ResNetLayout.of(depth);
        boolean imagenet = ResNetLayout.Family.IMAGENET.depths().contains(depth);
        assertEquals(depth, layout.numLayers());
        assertEquals(
                imagenet ? ResNetLayout.Family.IMAGENET : ResNetLayout.Family.CIFAR,
                layout.family());
        assertEquals(layout.family(), ResNetLayout.Family.of(depth));
        assertEquals(imagenet ? 4 : 3, layout.numStages());
        assertEquals(imagenet && depth >= 50, layout.isBottleneck());
        int base = imagenet ? 64 : 16;
        for (int stage = 1; stage <= layout.numStages(); stage++) {
            int filters = base << (stage - 1);
            assertEquals(filters, layout.filters(stage));
            assertEquals(layout.isBottleneck() ? 4 * filters : filters, layout.outFilters(stage));
        }
    }

    @ParameterizedTest
    @MethodSource("depths")
    void onlyTheFirstUnitOfALaterStageStridesAndOnlyShapeChangesProject(int depth) {
        ResNetLayout layout = ResNetLayout.of(depth);
        int strided = 0;
        int projected = 0;
        for (int stage = 1; stage <= layout.numStages(); stage++) {
            for (int unit = 0; unit < layout.units(stage); unit++) {
                int stride = layout.stride(stage, unit);
                boolean project = layout.hasProjection(stage, unit);
                strided += stride == 2 ? 1 : 0;
                projected += project ? 1 : 0;
                assertEquals(unit == 0 && stage > 1 ? 2 : 1, stride);
                // A unit projects exactly where its input and output shapes differ.
                int inChannels =
                        unit > 0
                                ? layout.outFilters(stage)
                                : stage > 1 ? layout.outFilters(stage - 1) : layout.filters(1);
                assertEquals(stride != 1 || inChannels != layout.outFilters(stage), project);
            }
        }
        assertEquals(layout.numStages() - 1, strided);
        assertEquals(
                layout.isBottleneck() ? layout.numStages() : layout.numStages() - 1, projected);
    }

    @ParameterizedTest
    @MethodSource("depths")
    void defaultDropBlockStagesAreTheLastTwoAndStageWeightsQuarterPerStage(int depth) {
        ResNetLayout layout = ResNetLayout.of(depth);
        int last = layout.numStages();
        assertArrayEquals(new int[] {last - 1, last}, layout.dropBlockStages(null));
        assertArrayEquals(new int[0], layout.dropBlockStages(new int[0]));
        assertEquals(1.0, layout.stageWeight(last));
        assertEquals(0.25, layout.stageWeight(last - 1));
        assertEquals(1.0 / 16, layout.stageWeight(last - 2));
    }

    @Test
    void chosenDropBlockStagesAreCopied() {
        int[] chosen = {1, 3};
        int[] stages = ResNetLayout.of(50).dropBlockStages(chosen);
        assertArrayEquals(chosen, stages);
        stages[0] = 4;
        assertEquals(1, chosen[0]);
    }

    @ParameterizedTest
    @CsvSource({"32, 32, false", "28, 28, false", "33, 32, true", "32, 224, true"})
    void imagesAbove32PixelsGetTheDownsamplingStem(long height, long width, boolean large) {
        assertEquals(large, ResNetLayout.hasLargeStem(height, width));
    }

    @ParameterizedTest
    @MethodSource("depths")
    void stemFeedsTheFirstStageItsOwnWidth(int depth) {
        // A basic-block network's first unit adds its input through the identity, so the stem
        // must put out exactly the first stage's filters, whatever the image size.
        ResNetLayout layout = ResNetLayout.of(depth);
        assertEquals(layout.filters(1), layout.stemFilters());
    }

    @Test
    void unsupportedDepthIsRejectedNamingTheArgument() {
        String families =
                " must be one of [18, 34, 50, 101, 152] (ImageNet family) or [20, 32, 44, 56, 110]"
                        + " (CIFAR family), got 21";
        assertEquals(
                "numLayers" + families,
                assertThrows(IllegalArgumentException.class, () -> ResNetLayout.of(21))
                        .getMessage());
        assertEquals(
                "depth" + families,
                assertThrows(IllegalArgumentException.class, () -> ResNetLayout.Family.of(21))
                        .getMessage());
    }

    @Test
    void outOfRangeStagesAndUnitsAreRejectedWithTheValue() {
        ResNetLayout layout = ResNetLayout.of(20);
        assertEquals(
                "dropBlockStages must be in [1, 3] for a 20-layer ResNet, got [2, 4]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> layout.dropBlockStages(new int[] {2, 4}))
                        .getMessage());
        assertEquals(
                "stage must be in [1, 3] for a 20-layer ResNet, got 0",
                assertThrows(IllegalArgumentException.class, () -> layout.filters(0)).getMessage());
        assertEquals(
                "unit must be in [0, 2] for stage 2 of a 20-layer ResNet, got 3",
                assertThrows(IllegalArgumentException.class, () -> layout.stride(2, 3))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> layout.stageWeight(4));
        assertThrows(IllegalArgumentException.class, () -> layout.hasProjection(1, -1));
    }

    @Test
    void layoutsAreValuesOfTheirDepth() {
        assertEquals(ResNetLayout.of(50), ResNetLayout.of(50));
        assertEquals(ResNetLayout.of(50).hashCode(), ResNetLayout.of(50).hashCode());
        assertNotEquals(ResNetLayout.of(50), ResNetLayout.of(34));
        assertEquals(
                "ResNetLayout(numLayers=50, family=IMAGENET, units=[3, 4, 6, 3], bottleneck)",
                ResNetLayout.of(50).toString());
        assertFalse(ResNetLayout.of(34).toString().contains("bottleneck"));
        assertTrue(ResNetLayout.of(110).toString().contains("units=[18, 18, 18]"));
    }

    @Test
    void dropBlockMasksGiveEachStageItsBlock() {
        ResNetLayout resNet20 = ResNetLayout.of(20);
        assertEquals(
                java.util.Map.of(2, MaskSettings.of(7), 3, MaskSettings.of(7)),
                resNet20.dropBlockMasks(null, null, null));
        assertEquals(
                List.of(2, 3), List.copyOf(resNet20.dropBlockMasks(null, null, null).keySet()));
        // One per stage, in the order the stages are given.
        assertEquals(
                java.util.Map.of(3, MaskSettings.of(3), 2, MaskSettings.of(5)),
                resNet20.dropBlockMasks(new int[] {3, 2}, new int[] {3, 5}, null));
        assertEquals(
                java.util.Map.of(1, MaskSettings.of(4), 3, MaskSettings.of(4)),
                resNet20.dropBlockMasks(new int[] {1, 3}, new int[] {4}, null));
        MaskSettings quarter = MaskSettings.of(7).withBlockFraction(0.25);
        assertEquals(
                java.util.Map.of(2, quarter, 3, quarter.withBlockFraction(0.5)),
                resNet20.dropBlockMasks(null, null, new double[] {0.25, 0.5}));
        assertEquals(java.util.Map.of(), resNet20.dropBlockMasks(new int[0], new int[] {5}, null));
    }

    @Test
    void badDropBlockMasksAreRejectedWithTheirValues() {
        ResNetLayout resNet20 = ResNetLayout.of(20);
        assertEquals(
                "blockSize and blockFraction are exclusive, got [5] and [0.25]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        resNet20.dropBlockMasks(
                                                null, new int[] {5}, new double[] {0.25}))
                        .getMessage());
        assertEquals(
                "blockSize must have 1 entry or one per DropBlock stage (2 for stages [2, 3]),"
                        + " got [5, 3, 1]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> resNet20.dropBlockMasks(null, new int[] {5, 3, 1}, null))
                        .getMessage());
        assertEquals(
                "blockFraction must have 1 entry or one per DropBlock stage (1 for stages [3]),"
                        + " got [0.1, 0.2]",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        resNet20.dropBlockMasks(
                                                new int[] {3}, null, new double[] {0.1, 0.2}))
                        .getMessage());
        assertEquals(
                "blockSize must be >= 1, got [5, 0]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> resNet20.dropBlockMasks(null, new int[] {5, 0}, null))
                        .getMessage());
        assertEquals(
                "blockFraction must be in (0, 1], got [1.5]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> resNet20.dropBlockMasks(null, null, new double[] {1.5}))
                        .getMessage());
    }

    @Test
    void optionsBothBuildersShareAreCheckedWithOneMessage() {
        assertEquals(
                "outSize must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> ResNetLayout.checkOutSize(0))
                        .getMessage());
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got (1, 0, 28)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNetLayout.checkImageShape(new long[] {1, 0, 28}))
                        .getMessage());
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got (28, 28)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNetLayout.checkImageShape(new long[] {28, 28}))
                        .getMessage());
        assertEquals(
                "imageShape must be (channels, height, width) with positive sizes, got null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNetLayout.checkImageShape(null))
                        .getMessage());
        assertEquals(
                "batchNormMomentum must be in [0, 1), got 1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNetLayout.checkBatchNormMomentum(1))
                        .getMessage());
        assertEquals(
                "batchNormMomentum must be in [0, 1), got NaN",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNetLayout.checkBatchNormMomentum(Double.NaN))
                        .getMessage());
    }
}
