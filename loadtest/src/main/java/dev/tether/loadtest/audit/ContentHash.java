package dev.tether.loadtest.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.ServerMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A 64-bit fingerprint of what a numbered message says, so that a replay can be compared with the
 * first delivery of the same seq without keeping the messages: the type, and for an {@code event}
 * the worker's object, for a {@code status} its state and reason, for a {@code notice} its code,
 * text and details. It reads the decoded JSON, not the frame's bytes, so a gateway that encodes
 * the same content again (fields in another order) still matches. 64-bit FNV-1a; 0 is never
 * returned (the ledger uses it for "not seen"). Stateless.
 */
final class ContentHash {

    private static final long OFFSET = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;

    private ContentHash() {}

    /** The fingerprint of {@code message}'s content (its seq left out). */
    static long of(ServerMessage.Sequenced message) {
        long h = OFFSET;
        if (message instanceof ServerMessage.Event event) {
            h = text(h, "event");
            h = node(h, event.event());
        } else if (message instanceof ServerMessage.Status status) {
            h = text(h, "status");
            h = text(h, status.state().wire());
            h = text(h, status.reason());
        } else if (message instanceof ServerMessage.Notice notice) {
            h = text(h, "notice");
            h = text(h, notice.code());
            h = text(h, notice.message());
            h = node(h, notice.details());
        }
        return h == 0 || h == SeqLedger.LOST ? 1 : h;
    }

    private static long node(long h, JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return mix(h, 'z');
        }
        if (node.isObject()) {
            List<String> names = new ArrayList<>(node.size());
            node.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            h = mix(h, '{');
            for (String name : names) {
                h = text(h, name);
                h = node(h, node.get(name));
            }
            return mix(h, '}');
        }
        if (node.isArray()) {
            h = mix(h, '[');
            for (JsonNode element : node) {
                h = node(h, element);
            }
            return mix(h, ']');
        }
        if (node.isTextual()) {
            return text(mix(h, 's'), node.textValue());
        }
        if (node.isNumber()) {
            return text(mix(h, 'n'), node.decimalValue().stripTrailingZeros().toPlainString());
        }
        return text(mix(h, 'b'), node.asText());
    }

    private static long text(long h, String s) {
        if (s == null) {
            return mix(h, 'z');
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        h = mix(mix(mix(mix(h, bytes.length >>> 24), bytes.length >>> 16), bytes.length >>> 8), bytes.length);
        for (byte b : bytes) {
            h = mix(h, b);
        }
        return h;
    }

    private static long mix(long h, int b) {
        return (h ^ (b & 0xff)) * PRIME;
    }
}
