package dev.tether.gateway.logging;

/**
 * Escapes the characters that could break a text log line: line breaks (CR, LF, NEL, U+2028, U+2029),
 * every other C0 control character but tab, and DEL. Each becomes a visible escape ({@code \n},
 * {@code \r}, {@code \u001b} ...), so one event is always one line and a value cannot forge another.
 * Everything else is left as it is. Stateless; any thread.
 */
public final class LogEscaping {

    private LogEscaping() {}

    /** {@code text} with the characters above escaped; the same instance when there is nothing to escape. */
    public static String escape(String text) {
        if (text == null) {
            return null;
        }
        int first = firstToEscape(text);
        if (first < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (needsEscape(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int firstToEscape(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (needsEscape(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean needsEscape(char c) {
        return (c < 0x20 && c != '\t') || c == 0x7f || c == 0x85 || c == '\u2028' || c == '\u2029';
    }
}
