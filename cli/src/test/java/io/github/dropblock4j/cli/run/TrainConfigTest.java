package io.github.dropblock4j.cli.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.djl.ResNetDropBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TrainConfigTest {

    @Test
    void epochSeedsAreDistinctAcrossSeedsAndEpochsAndTheirLowBitsAreTheIntFormula() {
        TrainConfig one = TrainConfig.builder().optSeed(1).build();
        assertEquals(10_008, one.epochSeed(1));
        assertNotEquals(one.epochSeed(2), TrainConfig.builder().optSeed(2).build().epochSeed(1));
        // The DJL engine takes the low 32 bits: what int arithmetic gave before, overflow too.
        int large = 1_000_000;
        assertEquals(
                large * 10_007 + 3,
                (int) TrainConfig.builder().optSeed(large).build().epochSeed(3));
    }

    @Test
    void defaultsAreTheCommandLines() {
        TrainConfig c = TrainConfig.builder().build();
        assertEquals("embedded", c.data());
        assertEquals("resnet20", c.model());
        assertEquals(3, c.epochs());
        assertEquals(64, c.batchSize());
        assertEquals(0.1f, c.lr());
        assertEquals(5e-4f, c.weightDecay());
        assertEquals(1, c.seed());
        assertEquals(7, c.blockSize());
        assertEquals(0.1f, c.dropProb());
        assertEquals(TrainConfig.Schedule.LINEAR, c.schedule());
        assertEquals(null, c.stages());
        assertEquals(true, c.shortcut());
        assertEquals(Regularizer.DROPBLOCK, c.regularizer());
        assertEquals(1, c.testEvery());
        assertNull(c.blockSizePerStage());
        assertNull(c.blockFraction());
        assertEquals(false, c.recalibrateBn());
    }

    @Test
    void modelsAreEveryDepthResNetDropBlockBuilds() {
        assertEquals(ResNetDropBlock.DEPTHS.size(), TrainConfig.MODELS.size());
        for (int depth : ResNetDropBlock.DEPTHS) {
            assertEquals(depth, TrainConfig.builder().optModel("resnet" + depth).build().depth());
        }
    }

    @Test
    void toBuilderRebuildsAnEqualConfigAndChangesOnlyWhatIsSet() {
        TrainConfig c =
                TrainConfig.builder()
                        .optModel("resnet50")
                        .optStages(List.of(3, 4))
                        .optSeed(9)
                        .optAugment(true)
                        .build();
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
        TrainConfig other = c.toBuilder().optSeed(10).build();
        assertNotEquals(c, other);
        assertEquals(c, other.toBuilder().optSeed(9).build());
    }

    @Test
    void stagesAreCopied() {
        List<Integer> stages = new ArrayList<>(List.of(2));
        TrainConfig c = TrainConfig.builder().optStages(stages).build();
        stages.add(3);
        assertEquals(List.of(2), c.stages());
        assertThrows(UnsupportedOperationException.class, () -> c.stages().add(1));
    }

    @Test
    void blockSizesPerStageAndFractionsReachTheBuildersOnlyForDropBlock() {
        TrainConfig perStage = TrainConfig.builder().optBlockSizePerStage(List.of(5, 3)).build();
        assertArrayEquals(new int[] {5, 3}, perStage.blockSizesApplied());
        assertNull(perStage.blockFractionsApplied());
        assertEquals("5,3", perStage.blockSizeOption());
        TrainConfig fraction =
                TrainConfig.builder()
                        .optModel("resnet50")
                        .optStages(List.of(2, 3, 4))
                        .optBlockFraction(List.of(0.5, 0.4, 0.3))
                        .build();
        assertNull(fraction.blockSizesApplied());
        assertArrayEquals(new double[] {0.5, 0.4, 0.3}, fraction.blockFractionsApplied());
        assertTrue(fraction.toString().contains(" block=0.5,0.4,0.3 "), fraction.toString());
        // The other regularizers set their own block; none builds no DropBlock at all.
        TrainConfig dropout = fraction.toBuilder().optRegularizer(Regularizer.DROPOUT).build();
        assertArrayEquals(new int[] {1}, dropout.blockSizesApplied());
        assertNull(dropout.blockFractionsApplied());
        TrainConfig none = perStage.toBuilder().optRegularizer(Regularizer.NONE).build();
        assertArrayEquals(new int[] {7}, none.blockSizesApplied());
    }

    @Test
    void theLastBlockSettingWins() {
        TrainConfig c =
                TrainConfig.builder()
                        .optBlockSizePerStage(List.of(5, 3))
                        .optBlockFraction(List.of(0.36))
                        .build();
        assertNull(c.blockSizePerStage());
        assertEquals(List.of(0.36), c.blockFraction());
        TrainConfig single = c.toBuilder().optBlockSize(3).build();
        assertEquals(TrainConfig.builder().optBlockSize(3).build(), single);
        assertEquals("3", single.blockSizeOption());
    }

    static Stream<Arguments> badSettings() {
        return Stream.of(
                bad(
                        b -> b.optModel("resnet21"),
                        "--model must be one of " + TrainConfig.MODELS + ", got resnet21"),
                bad(b -> b.optEpochs(10_001), "--epochs must be in [1, 10000], got 10001"),
                bad(b -> b.optBatchSize(0), "--batch-size must be in [1, 4096], got 0"),
                bad(b -> b.optLr(Float.NaN), "--lr must be in (0, 10], got NaN"),
                bad(b -> b.optWeightDecay(1f), "--weight-decay must be in [0, 1), got 1.0"),
                bad(b -> b.optBlockSize(0), "--block-size must be >= 1, got 0"),
                bad(b -> b.optDropProb(1f), "--drop-prob must be in [0, 1), got 1.0"),
                bad(b -> b.optTrainLimit(-1), "--train-limit must be >= 0 (0: no limit), got -1"),
                bad(b -> b.optTestLimit(-1), "--test-limit must be >= 0 (0: no limit), got -1"),
                bad(
                        b -> b.optValSplit(-1),
                        "--val-split must be >= 0 (0: no validation set), got -1"),
                bad(b -> b.optTestEvery(0), "--test-every must be >= 1, got 0"),
                bad(
                        b -> b.optModel("resnet18").optStages(List.of(5)),
                        "--stages must be in [1, 4] for resnet18, got [5]"),
                bad(b -> b.optStages(List.of()), "--stages must be in [1, 3] for resnet20, got []"),
                bad(
                        b -> b.optBlockSizePerStage(List.of(5, 3, 1)),
                        "--block-size must have 1 value or one per stage of --stages (2, the last"
                                + " two), got 5,3,1"),
                bad(
                        b -> b.optStages(List.of(3)).optBlockFraction(List.of(0.5, 0.25)),
                        "--block-size must have 1 value or one per stage of --stages (1 for 3),"
                                + " got 0.5,0.25"),
                bad(
                        b -> b.optBlockSizePerStage(List.of(5, 0)),
                        "--block-size must be >= 1, got 5,0"),
                bad(
                        b -> b.optBlockFraction(List.of(0.5, 1.5)),
                        "--block-size fractions must be in (0, 1], got 0.5,1.5"));
    }

    private static Arguments bad(UnaryOperator<TrainConfig.Builder> change, String message) {
        return Arguments.of(change, message);
    }

    @ParameterizedTest
    @MethodSource("badSettings")
    void badSettingsAreRefusedNamingOptionRuleAndValue(
            UnaryOperator<TrainConfig.Builder> change, String message) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> change.apply(TrainConfig.builder()).build());
        assertEquals(message, e.getMessage());
    }
}
