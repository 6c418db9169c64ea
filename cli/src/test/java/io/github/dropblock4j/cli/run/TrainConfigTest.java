package io.github.dropblock4j.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
                bad(
                        b -> b.optStages(List.of()),
                        "--stages must be in [1, 3] for resnet20, got []"));
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
