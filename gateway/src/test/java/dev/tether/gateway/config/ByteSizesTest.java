package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizesTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(textBlock = """
            0,       0
            1000,    1000
            512B,    512
            64KiB,   65536
            8MiB,    8388608
            1GiB,    1073741824
            8 MiB,   8388608
            -1KiB,   -1024
            """)
    void parses(String text, long expected) {
        assertEquals(expected, ByteSizes.parse(text));
    }

    @ParameterizedTest(name = "[{index}] ''{0}''")
    @ValueSource(
            strings = {
                "",
                "MiB",
                "8MB",
                "8mb",
                "8 megabytes",
                "1.5MiB",
                "8TiB",
                "1e6",
                "abc",
                "99999999999999999999",
                "9999999999GiB"
            })
    void rejectsUnknownUnitsAndGarbage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse(text));
        assertTrue(e.getMessage().contains(ByteSizes.EXPECTED), e.getMessage());
    }

    @ParameterizedTest(name = "{1} -> {0}")
    @CsvSource(textBlock = """
            0,     0
            1000,  1000
            1KiB,  1024
            1025,  1025
            1MiB,  1048576
            8MiB,  8388608
            1GiB,  1073741824
            3GiB,  3221225472
            """)
    void formatsWithTheLargestExactUnit(String expected, long bytes) {
        assertEquals(expected, ByteSizes.format(bytes));
        assertEquals(bytes, ByteSizes.parse(expected));
    }
}
