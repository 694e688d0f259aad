package dev.tether.gateway.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class LogEscapingTest {

    @Test
    void lineBreaksAndControlCharactersBecomeVisibleEscapes() {
        assertEquals(
                "a\\nb\\rc\\u001b[31md\\u0000e\\u007ff\\u0085g\\u2028h\\u2029i",
                LogEscaping.escape("a\nb\rc\u001b[31md\u0000e\u007ff\u0085g\u2028h\u2029i"));
    }

    @Test
    void ordinaryTextTabsAndUnicodeStayAsTheyAre() {
        String text = "session started\t(warm worker) subject=Zoë ✓ C:\\path";
        assertSame(text, LogEscaping.escape(text));
        assertNull(LogEscaping.escape(null));
    }
}
