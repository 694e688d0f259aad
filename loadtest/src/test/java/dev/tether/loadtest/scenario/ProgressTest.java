package dev.tether.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress bar without a terminal: plain lines only, the last state drawn once; nothing when off. */
class ProgressTest {

    @Test
    void withoutATerminalItPrintsPlainLinesWithoutControlCharacters() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (Progress progress = Progress.open(true, "steady", 10, "s", false, out)) {
            progress.update(3, "run: 5 up, 50 msg/s, 0 errors");
            progress.update(2, "late and out of order: ignored");
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.chars().noneMatch(c -> c < 0x20 && c != '\n'), "control characters in " + text);
        List<String> lines = text.lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("steady"), last);
        assertTrue(last.contains("3/10 s"), last);
        assertTrue(last.contains("run: 5 up, 50 msg/s, 0 errors"), last);
        assertFalse(text.contains("out of order"), text);
        assertEquals(lines.size(), lines.stream().distinct().count(), "a line repeated: " + lines);
        assertTrue(lines.stream().allMatch(l -> l.length() <= Progress.PLAIN_WIDTH), lines.toString());
    }

    @Test
    void countingStepsUpToTheTotal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress progress = Progress.open(
                true, "resume", 2, "rounds", false, new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            progress.step("round one");
            progress.step("round two");
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.get(lines.size() - 1).contains("2/2 rounds"), lines.toString());
        assertTrue(lines.get(lines.size() - 1).contains("round two"), lines.toString());
    }

    @Test
    void disabledItPrintsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress progress =
                Progress.open(false, "steady", 10, "s", false, new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            progress.update(5, "anything");
            progress.step("anything");
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
