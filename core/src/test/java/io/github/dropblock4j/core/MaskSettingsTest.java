package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class MaskSettingsTest {

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void aBlockSizeAloneGetsThePapersSettings() {
        MaskSettings settings = MaskSettings.of(7);
        assertArrayEquals(new int[] {7}, settings.blockSize());
        assertEquals(GammaMode.CALIBRATED, settings.gammaMode());
        assertEquals(ScaleMode.BATCH, settings.scaleMode());
        assertEquals(MaskSharing.PER_CHANNEL, settings.maskSharing());
    }

    @Test
    void blockSizeIsCopiedInAndOut() {
        int[] blockSize = {3, 5};
        MaskSettings settings =
                MaskSettings.of(
                        blockSize, GammaMode.PAPER, ScaleMode.EXPECTED, MaskSharing.PER_SAMPLE);
        blockSize[0] = 9;
        settings.blockSize()[1] = 9;
        assertArrayEquals(new int[] {3, 5}, settings.blockSize());
    }

    @Test
    void holderGettersReadItsSettings() {
        MaskSettings settings =
                MaskSettings.of(
                        new int[] {3, 5},
                        GammaMode.PAPER,
                        ScaleMode.EXPECTED,
                        MaskSharing.PER_SAMPLE);
        MaskSettings.Holder holder = () -> settings;
        assertArrayEquals(new int[] {3, 5}, holder.getBlockSize());
        assertEquals(GammaMode.PAPER, holder.getGammaMode());
        assertEquals(ScaleMode.EXPECTED, holder.getScaleMode());
        assertEquals(MaskSharing.PER_SAMPLE, holder.getMaskSharing());
        holder.getBlockSize()[0] = 9;
        assertArrayEquals(new int[] {3, 5}, holder.getBlockSize());
    }

    @Test
    void badBlockSizesAndNullModesAreRejectedWithTheirValues() {
        assertEquals("blockSize must be >= 1, got [0]", message(() -> MaskSettings.of(0)));
        assertEquals(
                "blockSize must have at least one entry, got null",
                message(() -> MaskSettings.of(7).withBlockSize((int[]) null)));
        assertEquals(
                "blockSize must have at most 3 entries (1D, 2D or 3D), got [3, 3, 3, 3]",
                message(() -> MaskSettings.of(7).withBlockSize(3, 3, 3, 3)));
        assertEquals(
                "gammaMode, scaleMode and maskSharing must not be null, got null, BATCH,"
                        + " PER_CHANNEL",
                message(() -> MaskSettings.of(7).withGammaMode(null)));
        assertEquals(
                "gammaMode, scaleMode and maskSharing must not be null, got CALIBRATED, null,"
                        + " PER_CHANNEL",
                message(() -> MaskSettings.of(7).withScaleMode(null)));
        assertEquals(
                "gammaMode, scaleMode and maskSharing must not be null, got CALIBRATED, BATCH,"
                        + " null",
                message(() -> MaskSettings.of(7).withMaskSharing(null)));
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5})
    void ranksThreeToFiveAreInputs(int rank) {
        long[] shape = new long[rank];
        Arrays.fill(shape, 2);
        assertDoesNotThrow(() -> MaskSettings.checkInputRank(shape));
        assertDoesNotThrow(() -> MaskSettings.of(3).checkBlockSizeFits(shape));
    }

    @Test
    void otherRanksAreRejectedNamingTheShape() {
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 2 with shape (4, 7)",
                message(() -> MaskSettings.checkInputRank(new long[] {4, 7})));
        assertEquals(
                "input must have rank 3, 4 or 5 (N, C, spatial...), got rank 6 with shape"
                        + " (1, 1, 2, 2, 2, 2)",
                message(() -> MaskSettings.checkInputRank(new long[] {1, 1, 2, 2, 2, 2})));
    }

    @Test
    void aBlockSizePerDimensionMustMatchTheSpatialRank() {
        MaskSettings twoD = MaskSettings.of(3).withBlockSize(3, 5);
        assertDoesNotThrow(() -> twoD.checkBlockSizeFits(new long[] {2, 3, 8, 8}));
        assertEquals(
                "blockSize must have 1 entry or one per spatial dimension (1 for input shape"
                        + " (1, 1, 7)), got [3, 5]",
                message(() -> twoD.checkBlockSizeFits(new long[] {1, 1, 7})));
    }

    @Test
    void geometryIsOverTheSpatialDimensionsWithTheBlockClipped() {
        MaskSettings settings = MaskSettings.of(7);
        BlockGeometry geometry = settings.geometry(new long[] {2, 3, 5, 9});
        assertEquals(BlockGeometry.of(new int[] {5, 9}, new int[] {7}), geometry);
        assertEquals(5, geometry.block(0));
        assertEquals(7, geometry.block(1));
    }

    @ParameterizedTest
    @EnumSource(GammaMode.class)
    void gammaIsThatOfTheGammaMode(GammaMode mode) {
        MaskSettings settings = MaskSettings.of(5).withGammaMode(mode);
        BlockGeometry geometry = settings.geometry(new long[] {1, 1, 14, 14});
        assertEquals(DropBlockGamma.gamma(geometry, 0.1, mode), settings.gamma(geometry, 0.1));
    }

    @Test
    void maskShapeFollowsTheSharing() {
        long[] input = {4, 3, 7, 7};
        MaskSettings settings = MaskSettings.of(3);
        assertArrayEquals(input, settings.maskShape(input));
        assertArrayEquals(
                new long[] {4, 1, 7, 7},
                settings.withMaskSharing(MaskSharing.PER_SAMPLE).maskShape(input));
        assertArrayEquals(
                new long[] {1, 3, 7, 7},
                settings.withMaskSharing(MaskSharing.PER_BATCH).maskShape(input));
    }

    @Test
    void masksAboveIntIndexedBuffersAreRejectedButLargeSharedInputsAreNot() {
        // 65536 * 32768 = 2^31 units, one more than an int-indexed buffer holds.
        long[] input = {65536, 32768, 1};
        assertEquals(
                "mask must have at most 2147483647 units, got 2147483648 for shape"
                        + " (65536, 32768, 1)",
                message(() -> MaskSettings.of(1).maskShape(input)));
        assertArrayEquals(
                new long[] {65536, 1, 1},
                MaskSettings.of(1).withMaskSharing(MaskSharing.PER_SAMPLE).maskShape(input));
        assertDoesNotThrow(() -> MaskSettings.of(1).maskShape(new long[] {65535, 32768, 1}));
    }

    @Test
    void settingsAreValues() {
        MaskSettings a = MaskSettings.of(3).withBlockSize(3, 5);
        MaskSettings b =
                MaskSettings.of(
                        new int[] {3, 5},
                        GammaMode.CALIBRATED,
                        ScaleMode.BATCH,
                        MaskSharing.PER_CHANNEL);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, b.withScaleMode(ScaleMode.NONE));
        assertNotEquals(a, b.withBlockSize(5, 3));
        assertEquals(
                "MaskSettings(blockSize=[3, 5], gammaMode=CALIBRATED, scaleMode=BATCH,"
                        + " maskSharing=PER_CHANNEL)",
                a.toString());
    }

    @Test
    void aBlockFractionIsResolvedAgainstEachMapAndGammaUsesTheAppliedSize() {
        MaskSettings settings = MaskSettings.of(7).withBlockFraction(0.25);
        assertArrayEquals(new double[] {0.25}, settings.blockFraction());
        assertEquals(null, settings.blockSize());
        BlockGeometry on14 = settings.geometry(new long[] {2, 3, 14, 14});
        BlockGeometry on7 = settings.geometry(new long[] {2, 3, 7, 7});
        assertEquals(BlockGeometry.of(new int[] {14, 14}, new int[] {4}), on14);
        assertEquals(BlockGeometry.of(new int[] {7, 7}, new int[] {2}), on7);
        assertEquals(
                DropBlockGamma.gamma(on7, 0.1, GammaMode.CALIBRATED), settings.gamma(on7, 0.1));
        // Back to a size: the fraction is gone.
        assertEquals(MaskSettings.of(5), settings.withBlockSize(5));
        assertEquals(
                "MaskSettings(blockFraction=[0.25], gammaMode=CALIBRATED, scaleMode=BATCH,"
                        + " maskSharing=PER_CHANNEL)",
                settings.toString());
        MaskSettings.Holder holder = () -> settings;
        assertArrayEquals(new double[] {0.25}, holder.getBlockFraction());
        assertEquals(null, holder.getBlockSize());
        assertEquals(null, MaskSettings.of(7).blockFraction());
    }

    @Test
    void aBlockSizeAndAFractionTogetherAreRejected() {
        assertEquals(
                "blockSize and blockFraction are exclusive, got [7] and [0.25]",
                message(
                        () ->
                                MaskSettings.of(
                                        new int[] {7},
                                        new double[] {0.25},
                                        GammaMode.CALIBRATED,
                                        ScaleMode.BATCH,
                                        MaskSharing.PER_CHANNEL)));
        assertEquals(
                "blockFraction must have at most 3 entries (1D, 2D or 3D), got [0.1, 0.1, 0.1,"
                        + " 0.1]",
                message(() -> MaskSettings.of(7).withBlockFraction(0.1, 0.1, 0.1, 0.1)));
        assertEquals(
                "blockFraction must have at least one entry, got null",
                message(() -> MaskSettings.of(7).withBlockFraction((double[]) null)));
        MaskSettings twoD = MaskSettings.of(7).withBlockFraction(0.2, 0.3);
        assertEquals(
                "blockFraction must have 1 entry or one per spatial dimension (1 for input shape"
                        + " (1, 1, 7)), got [0.2, 0.3]",
                message(() -> twoD.checkBlockSizeFits(new long[] {1, 1, 7})));
    }

    @Test
    void fractionSettingsAreValuesDistinctFromSizes() {
        MaskSettings a = MaskSettings.of(7).withBlockFraction(0.25);
        MaskSettings b = MaskSettings.of(3).withBlockFraction(0.25);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, a.withBlockFraction(0.5));
        assertNotEquals(a, MaskSettings.of(7));
        assertEquals(a, a.withGammaMode(GammaMode.PAPER).withGammaMode(GammaMode.CALIBRATED));
    }
}
