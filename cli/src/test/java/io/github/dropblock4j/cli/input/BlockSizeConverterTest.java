package io.github.dropblock4j.cli.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class BlockSizeConverterTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 1 << 16})
    void positiveSizesAreAccepted(int size) throws Exception {
        assertEquals(size, new BlockSizeConverter().convert(String.valueOf(size)));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "0; must be >= 1, got 0",
                "-3; must be >= 1, got -3",
                "7.5; '7.5' is not an int"
            })
    void everythingElseIsRefusedNamingTheValue(String value, String message) {
        TypeConversionException e =
                assertThrows(
                        TypeConversionException.class,
                        () -> new BlockSizeConverter().convert(value));
        assertEquals(message, e.getMessage());
    }
}
