package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code error} codes: the contract's names, the extensions, and which of them are retryable. */
class ErrorCodeTest {

    /** Contract section 2 ("bad client input") and section 3 (resume). */
    private static final List<String> CONTRACT = List.of(
            "invalid_json",
            "unknown_type",
            "invalid_field",
            "binary_not_supported",
            "rate_limited",
            "queue_full",
            "session_busy",
            "invalid_sequence",
            "session_not_found",
            "session_expired");

    /** Every code and whether it is retryable, as docs/protocol.md tells client authors. */
    private static final Map<String, Boolean> RETRYABLE = new LinkedHashMap<>();

    static {
        RETRYABLE.put("invalid_json", false);
        RETRYABLE.put("unknown_type", false);
        RETRYABLE.put("invalid_field", false);
        RETRYABLE.put("binary_not_supported", false);
        RETRYABLE.put("rate_limited", true);
        RETRYABLE.put("queue_full", true);
        RETRYABLE.put("session_busy", true);
        RETRYABLE.put("invalid_sequence", false);
        RETRYABLE.put("session_not_found", false);
        RETRYABLE.put("session_expired", false);
        RETRYABLE.put("token_expired", true);
        RETRYABLE.put("auth_refresh_failed", false);
        RETRYABLE.put("shutting_down", true);
        RETRYABLE.put("admission_timeout", true);
        RETRYABLE.put("message_too_large", false);
        RETRYABLE.put("session_incompatible", false);
        RETRYABLE.put("read_only", false);
        RETRYABLE.put("request_resolved", false);
        RETRYABLE.put("request_not_found", false);
        RETRYABLE.put("extension_refused", false);
    }

    @Test
    void everyContractCodeExists() {
        List<String> wires = wires();
        for (String code : CONTRACT) {
            assertTrue(wires.contains(code), code);
        }
    }

    @Test
    void wireCodesAndRetryabilityAreExactlyTheDocumentedOnes() {
        Map<String, Boolean> actual = Arrays.stream(ErrorCode.values())
                .collect(Collectors.toMap(ErrorCode::wire, ErrorCode::retryable, (a, b) -> a, LinkedHashMap::new));

        assertEquals(RETRYABLE, actual);
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void fromWireRoundTrips(ErrorCode code) {
        assertSame(code, ErrorCode.fromWire(code.wire()));
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void jsonFormIsTheWireCode(ErrorCode code) throws JsonProcessingException {
        var mapper = new WireCodec().mapper();

        assertEquals('"' + code.wire() + '"', mapper.writeValueAsString(code));
        assertSame(code, mapper.readValue('"' + code.wire() + '"', ErrorCode.class));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "INVALID_JSON", "Invalid_Json", "invalid-json", " invalid_json", "unknown"})
    void fromWireRejectsUnknownNames(String wire) {
        assertThrows(IllegalArgumentException.class, () -> ErrorCode.fromWire(wire));
    }

    @Test
    void fromWireRejectsNull() {
        assertThrows(IllegalArgumentException.class, () -> ErrorCode.fromWire(null));
    }

    private static List<String> wires() {
        return Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).toList();
    }
}
