package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The session states of {@code session_ready.state} and {@code status.state}. */
class SessionStateTest {

    @Test
    void wireNamesAreExactlyTheContractOnes() {
        assertEquals(
                List.of("preparing", "idle", "processing", "restarting", "hibernated", "ended"),
                Arrays.stream(SessionState.values()).map(SessionState::wire).toList());
    }

    @ParameterizedTest
    @EnumSource(SessionState.class)
    void fromWireRoundTrips(SessionState state) {
        assertSame(state, SessionState.fromWire(state.wire()));
    }

    @ParameterizedTest
    @EnumSource(SessionState.class)
    void jsonFormIsTheWireName(SessionState state) throws JsonProcessingException {
        var mapper = new WireCodec().mapper();

        assertEquals('"' + state.wire() + '"', mapper.writeValueAsString(state));
        assertSame(state, mapper.readValue('"' + state.wire() + '"', SessionState.class));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "IDLE", "Idle", "busy", "ready", "idle "})
    void fromWireRejectsUnknownNames(String wire) {
        assertThrows(IllegalArgumentException.class, () -> SessionState.fromWire(wire));
    }

    @Test
    void fromWireRejectsNull() {
        assertThrows(IllegalArgumentException.class, () -> SessionState.fromWire(null));
    }
}
