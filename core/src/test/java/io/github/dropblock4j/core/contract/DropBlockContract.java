package io.github.dropblock4j.core.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.core.BlockGeometry;
import io.github.dropblock4j.core.DropBlockGamma;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSettings;
import io.github.dropblock4j.core.MaskSharing;
import io.github.dropblock4j.core.MaskStructure;
import io.github.dropblock4j.core.ScaleMode;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The behaviours every DropBlock (arXiv 1810.12890) of this project promises, written once against
 * a "masked forward" the adapter supplies: one seeded training forward of its DropBlock. The DJL
 * block and the DL4J dropout each extend this class once per way of drawing a mask (painted on the
 * host, or built from engine operations), in a few lines, and keep only their own specifics in
 * their {@code DropBlockTest}.
 *
 * <p>The statistical tests are seeded and their tolerances are asserted to span at least three
 * standard errors ({@link StandardErrors}) before they are trusted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DropBlockContract {

    // 3%, relative: tight enough that a gamma off by the valid-region factor (s / (s - b + 1))^2,
    // the torchvision and timm defect (1.62 for s = 28, b = 7), fails twenty times over, and wide
    // enough to span at least three standard errors (asserted, not assumed).
    private static final double RELATIVE_TOLERANCE = 0.03;
    // 1% of E[y] / E[x]: a twentieth of the 20% an output without rescaling loses at p = 0.2, and
    // at least three standard errors wide (asserted).
    private static final double MEAN_TOLERANCE = 0.01;
    // 32 forwards of about 2^20 units each. The standard error is the standard deviation of the
    // 32 per-forward fractions over sqrt(32) (worst case 7x7, block 7, p 0.05: 3 SE = 0.0011 <
    // 0.0015); StandardErrors asserts it rather than assuming it.
    private static final int DRAWS = 32;
    private static final int UNITS_PER_DRAW = 1 << 20;

    private final boolean fullGrid;

    /**
     * Creates the contract for one mask path.
     *
     * @param fullGrid whether {@link #realisedDropRateMatchesRequest} runs its whole grid (the
     *     CPU's default path) or its corners (a second path)
     */
    protected DropBlockContract(boolean fullGrid) {
        this.fullGrid = fullGrid;
    }

    /**
     * One training forward of the adapter's DropBlock: the engine's random seed set to {@code
     * seed}, then the forward of {@code input} with a DropBlock of {@code dropProb} and {@code
     * settings}.
     *
     * @param dropProb the drop probability, in [0, 1)
     * @param settings the block, gamma mode, scale mode and mask sharing
     * @param shape the input's shape (N, C, spatial...)
     * @param input the input, row-major
     * @param seed the engine's random seed for this forward
     * @return the output, row-major
     */
    protected abstract float[] forward(
            float dropProb, MaskSettings settings, long[] shape, float[] input, long seed);

    /**
     * The maps, blocks and drop probabilities of {@link #realisedDropRateMatchesRequest}: all of
     * maps of 7 to 56, blocks of 1 to 7 and p of 0.05 to 0.2 for the mask path that is the default
     * on the CPU, and their corners (the smallest and a large map; point, odd and whole-map blocks;
     * the lightest and the heaviest drop) for a second path, whose gamma comes from the same core
     * code and whose forwards are slower.
     *
     * @return {@code (size, block, p)} arguments
     */
    Stream<Arguments> grid() {
        int[] sizes = fullGrid ? new int[] {7, 14, 28, 56} : new int[] {7, 28};
        int[] blocks = fullGrid ? new int[] {1, 3, 5, 7} : new int[] {1, 3, 7};
        float[] probs = fullGrid ? new float[] {0.05f, 0.1f, 0.2f} : new float[] {0.05f, 0.2f};
        Stream.Builder<Arguments> grid = Stream.builder();
        for (int size : sizes) {
            for (int block : blocks) {
                for (float p : probs) {
                    grid.add(Arguments.of(size, block, p));
                }
            }
        }
        return grid.build();
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}")
    @MethodSource("grid")
    void realisedDropRateMatchesRequest(int size, int block, float p) {
        assertRealisedRate(p, MaskSettings.of(block), size, p);
    }

    static Stream<Arguments> paperGrid() {
        // The paper's gamma on a small, a medium and a large map, with odd and whole-map blocks.
        return Stream.of(
                Arguments.of(7, 3, 0.1f),
                Arguments.of(7, 7, 0.1f),
                Arguments.of(14, 5, 0.2f),
                Arguments.of(28, 7, 0.1f),
                Arguments.of(56, 7, 0.05f));
    }

    @ParameterizedTest(name = "{0}x{0}, block {1}, p {2}")
    @MethodSource("paperGrid")
    void paperModeRealisesItsClosedFormExpectation(int size, int block, float p) {
        BlockGeometry g = BlockGeometry.of(new int[] {size, size}, new int[] {block});
        double expected = g.expectedDropFraction(DropBlockGamma.gamma(g, p, GammaMode.PAPER));
        assertRealisedRate(
                p, MaskSettings.of(block).withGammaMode(GammaMode.PAPER), size, expected);
    }

    private void assertRealisedRate(float p, MaskSettings settings, int size, double target) {
        int channels = Math.max(1, UNITS_PER_DRAW / (size * size * 8));
        long[] shape = {8, channels, size, size};
        float[] x = ones(shape);
        double[] rates = new double[DRAWS];
        for (int d = 0; d < DRAWS; d++) {
            rates[d] = (double) countZeros(forward(p, settings, shape, x, 1000 + d)) / x.length;
        }
        StandardErrors.assertMeanWithin(rates, target, RELATIVE_TOLERANCE * target);
    }

    @ParameterizedTest
    @EnumSource(
            value = ScaleMode.class,
            names = {"BATCH", "EXPECTED"})
    void outputMeanMatchesInputMean(ScaleMode scale) {
        MaskSettings settings = MaskSettings.of(5).withScaleMode(scale);
        long[] shape = {16, 32, 14, 14};
        int draws = 200;
        double[] ratios = new double[draws];
        for (int d = 0; d < draws; d++) {
            SplittableRandom random = new SplittableRandom(d);
            float[] x = new float[16 * 32 * 14 * 14];
            for (int i = 0; i < x.length; i++) {
                x[i] = 0.5f + (float) random.nextDouble();
            }
            ratios[d] = sum(forward(0.2f, settings, shape, x, 2000 + d)) / sum(x);
        }
        StandardErrors.assertMeanWithin(ratios, 1.0, MEAN_TOLERANCE);
    }

    static Stream<Arguments> structures() {
        return Stream.of(
                Arguments.of(new long[] {4, 8, 40}, new int[] {4}),
                Arguments.of(new long[] {4, 8, 14, 14}, new int[] {5}),
                Arguments.of(new long[] {4, 8, 14, 14}, new int[] {4}),
                Arguments.of(new long[] {4, 8, 9, 17}, new int[] {3, 6}),
                Arguments.of(new long[] {2, 4, 6, 7, 8}, new int[] {2, 3, 4}));
    }

    @ParameterizedTest
    @MethodSource("structures")
    void zerosFormWholeBlocksSeededInTheValidRegion(long[] shape, int[] block) {
        MaskSettings settings = MaskSettings.of(1).withBlockSize(block);
        float[] y = forward(0.3f, settings, shape, ones(shape), 3000);
        int[] spatial = new int[shape.length - 2];
        for (int i = 0; i < spatial.length; i++) {
            spatial[i] = (int) shape[i + 2];
        }
        assertTrue(countZeros(y) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                y, (int) (shape[0] * shape[1]), BlockGeometry.of(spatial, block));
    }

    @Test
    void blockAsLargeAsTheMapDropsWholeChannelsOrNothing() {
        long[] shape = {16, 64, 7, 7};
        float[] y = forward(0.3f, MaskSettings.of(7), shape, ones(shape), 3001);
        int dropped = 0;
        for (int c = 0; c < 16 * 64; c++) {
            int zeros = 0;
            for (int i = 0; i < 49; i++) {
                zeros += y[c * 49 + i] == 0f ? 1 : 0;
            }
            assertTrue(zeros == 0 || zeros == 49, "channel " + c + " has " + zeros + " zeros");
            dropped += zeros == 49 ? 1 : 0;
        }
        assertTrue(dropped > 0);
    }

    @Test
    void blockSizeOneIsElementDropout() {
        // Neighbours drop independently: both zero with probability p^2, not p as in a block.
        // Over n = 64 * 64 * 64 * 63 horizontal pairs, of which neighbouring pairs share a unit
        // (covariance p^3 - p^4, 62 such neighbours for 63 pairs of a row, counted both ways),
        // the standard error of that frequency is sqrt((p^2 (1 - p^2) + 2 * 62 / 63 * (p^3 -
        // p^4)) / n) = 2.7e-5 for p = 0.1; the tolerance is 4 of those.
        long[] shape = {64, 64, 64, 64};
        float[] y = forward(0.1f, MaskSettings.of(1), shape, ones(shape), 3002);
        long pairs = 0;
        long both = 0;
        for (int row = 0; row < 64 * 64 * 64; row++) {
            for (int x = 0; x < 63; x++) {
                pairs++;
                both += y[row * 64 + x] == 0f && y[row * 64 + x + 1] == 0f ? 1 : 0;
            }
        }
        double variance = 0.01 * 0.99 + 2 * 62.0 / 63 * (0.001 - 0.0001);
        assertEquals(0.01, (double) both / pairs, 4 * Math.sqrt(variance / pairs));
    }

    static Stream<Arguments> fractions() {
        return Stream.of(
                Arguments.of(28, 0.25, 7), Arguments.of(14, 0.25, 4), Arguments.of(7, 0.43, 3));
    }

    @ParameterizedTest(name = "{0}x{0}, fraction {1}: block {2}")
    @MethodSource("fractions")
    void blockFractionDropsWholeBlocksOfTheAppliedSizeAtTheRequestedRate(
            int size, double fraction, int block) {
        // Gamma must use the applied block: the realised rate matches p only if it does.
        MaskSettings settings = MaskSettings.of(1).withBlockFraction(fraction);
        assertRealisedRate(0.1f, settings, size, 0.1);
        long[] shape = {4, 8, size, size};
        float[] y = forward(0.1f, settings, shape, ones(shape), 3003);
        assertTrue(countZeros(y) > 0);
        MaskStructure.assertUnionOfValidBlocks(
                y, 4 * 8, BlockGeometry.of(new int[] {size, size}, new int[] {block}));
    }

    @Test
    void sameSeedGivesSameMasks() {
        long[] shape = {4, 16, 28, 28};
        float[] x = ones(shape);
        MaskSettings settings = MaskSettings.of(5);
        float[] first = forward(0.1f, settings, shape, x, 42);
        float[] again = forward(0.1f, settings, shape, x, 42);
        float[] other = forward(0.1f, settings, shape, x, 43);
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other));
    }

    // The sharing tests: (4, 8, 14, 14) ones, block 3, p 0.3, so each map drops about 59 units in
    // about 8 blocks, and two independent maps are the same only if both drop nothing (e^-8).
    private static final int SAMPLES = 4;
    private static final int CHANNELS = 8;
    private static final int PLANE = 14 * 14;

    @Test
    void perChannelMasksDifferBetweenChannelsAndSamples() {
        float[] y = forwardWithSharing(MaskSharing.PER_CHANNEL);
        for (int a = 0; a < SAMPLES * CHANNELS; a++) {
            for (int b = a + 1; b < SAMPLES * CHANNELS; b++) {
                assertDifferUnlessBothKeepAll(y, a, b, "PER_CHANNEL");
            }
        }
    }

    @Test
    void perSampleMaskIsSharedByAllChannelsOfASampleAndDiffersBetweenSamples() {
        float[] y = forwardWithSharing(MaskSharing.PER_SAMPLE);
        for (int n = 0; n < SAMPLES; n++) {
            for (int c = 1; c < CHANNELS; c++) {
                assertTrue(
                        samePlane(y, n * CHANNELS, n * CHANNELS + c),
                        "PER_SAMPLE: sample " + n + ", channel " + c + " differs from channel 0");
            }
            for (int m = n + 1; m < SAMPLES; m++) {
                assertDifferUnlessBothKeepAll(y, n * CHANNELS, m * CHANNELS, "PER_SAMPLE");
            }
        }
    }

    @Test
    void perBatchMaskIsSharedByAllSamplesAndDiffersBetweenChannels() {
        float[] y = forwardWithSharing(MaskSharing.PER_BATCH);
        for (int c = 0; c < CHANNELS; c++) {
            for (int n = 1; n < SAMPLES; n++) {
                assertTrue(
                        samePlane(y, c, n * CHANNELS + c),
                        "PER_BATCH: channel " + c + ", sample " + n + " differs from sample 0");
            }
            for (int d = c + 1; d < CHANNELS; d++) {
                assertDifferUnlessBothKeepAll(y, c, d, "PER_BATCH");
            }
        }
    }

    private float[] forwardWithSharing(MaskSharing sharing) {
        long[] shape = {SAMPLES, CHANNELS, 14, 14};
        float[] y =
                forward(
                        0.3f,
                        MaskSettings.of(3).withMaskSharing(sharing),
                        shape,
                        ones(shape),
                        4000);
        assertTrue(countZeros(y) > 0, sharing + ": nothing dropped");
        return y;
    }

    private static boolean samePlane(float[] y, int a, int b) {
        return Arrays.equals(y, a * PLANE, (a + 1) * PLANE, y, b * PLANE, (b + 1) * PLANE);
    }

    // Two maps drawn independently are equal only if neither dropped anything.
    private static void assertDifferUnlessBothKeepAll(float[] y, int a, int b, String sharing) {
        if (samePlane(y, a, b)) {
            long zeros = countZeros(Arrays.copyOfRange(y, a * PLANE, (a + 1) * PLANE));
            assertEquals(
                    0,
                    zeros,
                    sharing
                            + ": maps "
                            + a
                            + " and "
                            + b
                            + " share a mask with "
                            + zeros
                            + " zeros");
        }
    }

    /**
     * Returns an input of ones, whose output is the mask times the scale.
     *
     * @param shape the shape
     * @return the ones, row-major
     */
    protected static float[] ones(long[] shape) {
        float[] x = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        Arrays.fill(x, 1f);
        return x;
    }

    /**
     * Counts the zeros, the dropped units of an output of ones.
     *
     * @param values the values
     * @return how many are zero
     */
    public static long countZeros(float[] values) {
        long zeros = 0;
        for (float v : values) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }

    private static double sum(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum;
    }
}
