package io.github.dropblock4j.cli.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine.TypeConversionException;

class StageBlockSizesConverterTest {

    private final StageBlockSizesConverter converter = new StageBlockSizesConverter();

    @Test
    void integersAreBlockSizesOnePerStageOrOneForAll() {
        assertEquals(new StageBlockSizes(List.of(7), null), converter.convert("7"));
        assertEquals(new StageBlockSizes(List.of(5, 3), null), converter.convert("5,3"));
        assertEquals(new StageBlockSizes(List.of(5, 3), null), converter.convert("5, 3"));
    }

    @Test
    void aDecimalPointMakesAFractionOfTheMap() {
        StageBlockSizes fraction = converter.convert("0.36");
        assertTrue(fraction.isFraction());
        assertEquals(List.of(0.36), fraction.fractions());
        assertEquals(new StageBlockSizes(null, List.of(0.5, 0.25)), converter.convert(".5,0.25"));
        // 1 is a 1x1 block (dropout), 1.0 a block as large as the map.
        assertEquals(new StageBlockSizes(List.of(1), null), converter.convert("1"));
        assertEquals(new StageBlockSizes(null, List.of(1.0)), converter.convert("1.0"));
    }

    @Test
    void toStringIsTheOptionsSpelling() {
        for (String value : List.of("7", "5,3", "0.36", "0.5,0.25")) {
            assertEquals(value, converter.convert(value).toString());
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "0; must be >= 1, got 0",
                "5,-3; must be >= 1, got -3",
                "1.5; a fraction of the map must be in (0, 1], got 1.5",
                "0.0; a fraction of the map must be in (0, 1], got 0.0",
                "5,0.5; give all block sizes (integers) or all fractions (with a decimal point),"
                        + " got 5,0.5",
                "x; 'x' in 'x' is neither a block size (an integer >= 1) nor a fraction of the map"
                        + " (in (0, 1], with a decimal point)",
                "'5,'; '' in '5,' is neither a block size (an integer >= 1) nor a fraction of the"
                        + " map (in (0, 1], with a decimal point)"
            })
    void everythingElseIsRefusedNamingTheValue(String value, String message) {
        TypeConversionException e =
                assertThrows(TypeConversionException.class, () -> converter.convert(value));
        assertEquals(message, e.getMessage());
    }

    @Test
    void theSettingHoldsExactlyOneListInRange() {
        assertThrows(IllegalArgumentException.class, () -> new StageBlockSizes(null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> new StageBlockSizes(List.of(3), List.of(0.5)));
        assertThrows(IllegalArgumentException.class, () -> new StageBlockSizes(List.of(), null));
        assertThrows(IllegalArgumentException.class, () -> new StageBlockSizes(null, List.of(2.0)));
    }
}
