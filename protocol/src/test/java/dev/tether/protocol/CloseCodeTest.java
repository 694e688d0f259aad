package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The close codes: the contract's numbers, the RFC 6455 extensions, and which invite a reconnect. */
class CloseCodeTest {

    /** Contract section 4. */
    private static final List<Integer> CONTRACT = List.of(1000, 1001, 1009, 1013, 4001, 4004, 4008, 4009, 4010, 4011);

    /** Every code and whether a client should reconnect and resume, as docs/protocol.md says. */
    private static final Map<Integer, Boolean> RECONNECT = new LinkedHashMap<>();

    static {
        RECONNECT.put(1000, false);
        RECONNECT.put(1001, true);
        RECONNECT.put(1002, false);
        RECONNECT.put(1007, false);
        RECONNECT.put(1009, false);
        RECONNECT.put(1013, true);
        RECONNECT.put(4001, false);
        RECONNECT.put(4004, false);
        RECONNECT.put(4008, false);
        RECONNECT.put(4009, false);
        RECONNECT.put(4010, true);
        RECONNECT.put(4011, false);
    }

    @Test
    void everyContractCodeExists() {
        for (int code : CONTRACT) {
            assertTrue(CloseCode.of(code).isPresent(), String.valueOf(code));
        }
    }

    @Test
    void codesAndReconnectAdviceAreExactlyTheDocumentedOnes() {
        Map<Integer, Boolean> actual = Arrays.stream(CloseCode.values())
                .collect(Collectors.toMap(CloseCode::code, CloseCode::reconnect, (a, b) -> a, LinkedHashMap::new));

        assertEquals(RECONNECT, actual);
    }

    @ParameterizedTest
    @EnumSource(CloseCode.class)
    void ofRoundTrips(CloseCode closeCode) {
        assertEquals(Optional.of(closeCode), CloseCode.of(closeCode.code()));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 999, 1003, 1005, 1006, 1011, 3000, 4000, 4999, 65535})
    void ofIsEmptyForCodesTheGatewayDoesNotUse(int code) {
        assertEquals(Optional.empty(), CloseCode.of(code));
    }

    @ParameterizedTest
    @EnumSource(CloseCode.class)
    void reasonFitsInACloseFrame(CloseCode closeCode) {
        // RFC 6455 5.5: control frame payload <= 125 bytes, 2 of which are the status code.
        int bytes = closeCode.reason().getBytes(StandardCharsets.UTF_8).length;
        assertTrue(bytes > 0 && bytes <= 123, closeCode + ": " + bytes + " bytes");
    }

    @ParameterizedTest
    @EnumSource(CloseCode.class)
    void codeIsSendableInACloseFrame(CloseCode closeCode) {
        // RFC 6455 7.4: 1000-2999 are defined by the RFC (1005/1006/1015 never sent) or registered
        // with IANA (1012-1014, e.g. 1013 try again later), 4000-4999 private.
        int code = closeCode.code();
        assertTrue(
                (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006)
                        || (code >= 4000 && code <= 4999),
                String.valueOf(code));
    }
}
