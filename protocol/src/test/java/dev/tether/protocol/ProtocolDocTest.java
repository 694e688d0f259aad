package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/protocol.md honest: its close-code, error-code and refusal tables must list exactly
 * the constants of the enums, with the same reconnect and retry advice.
 */
class ProtocolDocTest {

    /** Tests run in the module directory; the guide lives at the repository root. */
    private static final Path DOC = Path.of("..", "docs", "protocol.md");

    private static final Pattern CLOSE_ROW = Pattern.compile("^\\| (\\d{4}) \\|.*\\| (\\*\\*yes\\*\\*|no\\b).*\\|$");
    private static final Pattern ERROR_ROW = Pattern.compile("^\\| `([a-z_]+)` \\|.*\\| (\\*\\*yes\\*\\*|no\\b).*\\|$");
    private static final Pattern REFUSAL_ROW =
            Pattern.compile("^\\| (\\d{3}) \\| `([a-z_]+)` \\|.*\\| (yes|no) \\|.*\\|$");

    @Test
    void closeCodeTableMatchesCloseCode() throws IOException {
        Map<Integer, Boolean> documented = new LinkedHashMap<>();
        for (Matcher row : rows(section("## Close codes"), CLOSE_ROW)) {
            documented.put(Integer.parseInt(row.group(1)), row.group(2).startsWith("**yes"));
        }
        Map<Integer, Boolean> actual = Arrays.stream(CloseCode.values())
                .collect(Collectors.toMap(CloseCode::code, CloseCode::reconnect, (a, b) -> a, LinkedHashMap::new));

        assertEquals(actual, documented);
    }

    @Test
    void errorCodeTableMatchesErrorCode() throws IOException {
        Map<String, Boolean> documented = new LinkedHashMap<>();
        for (Matcher row : rows(section("## Error codes"), ERROR_ROW)) {
            documented.put(row.group(1), row.group(2).startsWith("**yes"));
        }
        Map<String, Boolean> actual = Arrays.stream(ErrorCode.values())
                .collect(Collectors.toMap(ErrorCode::wire, ErrorCode::retryable, (a, b) -> a, LinkedHashMap::new));

        assertEquals(actual, documented);
    }

    @Test
    void refusalTableMatchesUpgradeRefusal() throws IOException {
        Map<String, String> documented = new LinkedHashMap<>();
        for (Matcher row : rows(section("### Refusals"), REFUSAL_ROW)) {
            documented.put(row.group(2), row.group(1) + " " + row.group(3));
        }
        Map<String, String> actual = Arrays.stream(UpgradeRefusal.values())
                .collect(Collectors.toMap(
                        UpgradeRefusal::code, r -> r.status() + " " + (r.retryAfter() ? "yes" : "no")));

        assertEquals(actual, documented);
    }

    /** The lines from {@code heading} up to the next heading of the same or a higher level. */
    private static List<String> section(String heading) throws IOException {
        List<String> lines = Files.readAllLines(DOC);
        int start = lines.indexOf(heading);
        assertTrue(start >= 0, DOC + " has no heading " + heading);
        String level = heading.substring(0, heading.indexOf(' ') + 1);
        int end = start + 1;
        while (end < lines.size() && !isHeadingAtOrAbove(lines.get(end), level)) {
            end++;
        }
        return lines.subList(start + 1, end);
    }

    private static boolean isHeadingAtOrAbove(String line, String level) {
        for (int hashes = 1; hashes < level.length(); hashes++) {
            if (line.startsWith("#".repeat(hashes) + " ")) {
                return true;
            }
        }
        return false;
    }

    private static List<Matcher> rows(List<String> lines, Pattern row) {
        return lines.stream().map(row::matcher).filter(Matcher::matches).toList();
    }
}
