package io.github.dropblock4j.cli.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class DropProbConverterTest {

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.1", "0.9999"})
    void probabilitiesInTheHalfOpenUnitIntervalAreAccepted(String value) throws Exception {
        assertEquals(Float.parseFloat(value), new DropProbConverter().convert(value));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "1; must be in [0, 1), got 1",
                "-0.1; must be in [0, 1), got -0.1",
                "NaN; must be in [0, 1), got NaN",
                "x; 'x' is not a float"
            })
    void everythingElseIsRefusedNamingTheValue(String value, String message) {
        TypeConversionException e =
                assertThrows(
                        TypeConversionException.class,
                        () -> new DropProbConverter().convert(value));
        assertEquals(message, e.getMessage());
    }
}
