package io.github.dropblock4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BenchmarkCaseTest {

    @Test
    void parseReadsShapeAndBlockAndToStringWritesThemBack() {
        BenchmarkCase c = BenchmarkCase.parse("32x1024x14x14/7");
        assertEquals(new Shape(32, 1024, 14, 14), c.shape());
        assertEquals(7, c.blockSize());
        assertEquals("32x1024x14x14/7", c.toString());
        assertEquals(c, BenchmarkCase.parse(c.toString()));
    }

    @Test
    void defaultsAreTheFourStagesAtSevenAndTheThirdAtThreeAndFive() {
        assertEquals(
                "[32x256x56x56/7, 32x512x28x28/7, 32x1024x14x14/7, 32x2048x7x7/7, 32x1024x14x14/3,"
                        + " 32x1024x14x14/5]",
                BenchmarkCase.DEFAULTS.toString());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "32x1024x14x14",
                "32x1024x14/7",
                "32x1024x14x14x2/7",
                "axbxcxd/7",
                "1x1x7x7/7/7",
                ""
            })
    void malformedTextIsRejectedNamingIt(String text) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BenchmarkCase.parse(text));
        assertEquals(
                "case must look like NxCxHxW/block, e.g. 32x1024x14x14/7, got '" + text + "'",
                e.getMessage());
    }

    @Test
    void outOfRangeValuesAreRejectedNamingThem() {
        assertEquals(
                "blockSize must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> BenchmarkCase.parse("1x1x7x7/0"))
                        .getMessage());
        assertEquals(
                "shape must be 4 positive dimensions (N, C, H, W), got (1, -1, 7, 7)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BenchmarkCase.parse("1x-1x7x7/3"))
                        .getMessage());
        assertEquals(
                "shape must have at most 536870911 units, got 1073741824 in (1024, 1024, 32, 32)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> BenchmarkCase.parse("1024x1024x32x32/3"))
                        .getMessage());
    }
}
