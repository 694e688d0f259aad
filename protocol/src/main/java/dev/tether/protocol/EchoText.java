package dev.tether.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * How Tether's own workers echo a message (docs/workers.md): the text they answer with, and how they
 * cut it into deltas. The gateway's echo worker and the demo worker answer this way, and the load
 * test's audit predicts their turns, and its baseline server streams, with the same code, so that a
 * prediction cannot drift from what it predicts. Stateless.
 */
public final class EchoText {

    private EchoText() {}

    /** The text of a message's {@code data}: the data if a string, else {@code data.text} if a string, else the data as JSON. */
    public static String of(JsonNode data) {
        if (data.isTextual()) {
            return data.textValue();
        }
        JsonNode text = data.get("text");
        return text != null && text.isTextual() ? text.textValue() : data.toString();
    }

    /**
     * {@code text} in {@code n} parts of {@code ceil(length / n)} characters, the last ones shorter or
     * empty (a text shorter than {@code n} ends in empty parts); none when {@code n} is 0.
     */
    public static List<String> split(String text, int n) {
        List<String> parts = new ArrayList<>(n);
        int size = n == 0 ? 0 : (text.length() + n - 1) / n;
        for (int i = 0; i < n; i++) {
            int from = Math.min(text.length(), i * size);
            parts.add(text.substring(from, Math.min(text.length(), from + size)));
        }
        return parts;
    }
}
