package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(textBlock = """
            250ms,  PT0.25S
            30s,    PT30S
            5m,     PT5M
            1h,     PT1H
            2d,     PT48H
            0,      PT0S
            0s,     PT0S
            1500us, PT0.0015S
            7ns,    PT0.000000007S
            -5s,    PT-5S
            ' 10s ', PT10S
            10 s,   PT10S
            """)
    void parses(String text, Duration expected) {
        assertEquals(expected, Durations.parse(text));
    }

    @ParameterizedTest(name = "[{index}] ''{0}''")
    @ValueSource(
            strings = {
                "",
                "s",
                "5",
                "5 minutes",
                "5M",
                "1.5s",
                "1h30m",
                "+5s",
                "abc",
                "5sec",
                "99999999999999999999d",
                "9223372036854775807d"
            })
    void rejectsGarbage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().contains(Durations.EXPECTED), e.getMessage());
    }

    @ParameterizedTest(name = "{1} -> {0}")
    @CsvSource(textBlock = """
            0s,     PT0S
            250ms,  PT0.25S
            30s,    PT30S
            90s,    PT90S
            5m,     PT5M
            1h,     PT1H
            2d,     PT48H
            1500us, PT0.0015S
            7ns,    PT0.000000007S
            -5s,    PT-5S
            -250ms, PT-0.25S
            """)
    void formatsWithTheLargestExactUnit(String expected, Duration duration) {
        assertEquals(expected, Durations.format(duration));
        assertEquals(duration, Durations.parse(expected));
    }
}
