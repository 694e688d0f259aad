package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way a client frame can be wrong, and the exact {@link ErrorCode} {@link WireCodec#decodeClient}
 * answers it with; plus the lenient choices (unknown fields ignored, {@code data} optional).
 */
class WireCodecClientDecodeTest {

    private static final WireCodec CODEC = new WireCodec();

    private static final String PING = "{\"type\":\"ping\"}";

    // --- invalid_json: the text is not exactly one JSON object ---

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "not json",
                "ping",
                "{",
                "{\"type\":\"ping\"",
                "{\"type\":\"message\",\"id\":\"a\",\"data\":{\"k\":[1,2",
                "{\"type\":",
                "{type:\"ping\"}",
                "{'type':'ping'}",
                "{\"type\":\"ping\",}",
                "{\"type\":\"ack\",\"seq\":01}",
                "{\"type\":\"ack\",\"seq\":NaN}",
                "{\"type\":\"ping\"} // comment",
                "",
                " ",
                "\n\t",
            })
    void unparseableTextIsInvalidJson(String text) {
        assertError(ErrorCode.INVALID_JSON, text);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"[]", "[{\"type\":\"ping\"}]", "42", "-1.5", "\"ping\"", "null", "true", "false"})
    void topLevelValueOtherThanAnObjectIsInvalidJson(String text) {
        assertError(ErrorCode.INVALID_JSON, text);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                PING + " x",
                PING + PING,
                PING + " " + PING,
                PING + "}",
                PING + "]",
                PING + "1",
                PING + "null",
                PING + ",",
            })
    void trailingDataAfterTheObjectIsInvalidJson(String text) {
        assertError(ErrorCode.INVALID_JSON, text);
    }

    @Test
    void trailingWhitespaceIsAccepted() throws ProtocolException {
        assertEquals(new ClientMessage.Ping(), CODEC.decodeClient(" \n" + PING + " \r\n\t"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{\"type\":\"ping\",\"type\":\"ping\"}",
                "{\"type\":\"ping\",\"type\":\"message\"}",
                "{\"type\":\"ack\",\"seq\":1,\"seq\":2}",
                "{\"type\":\"message\",\"id\":\"a\",\"data\":{\"k\":1,\"k\":2}}",
                "{\"type\":\"message\",\"id\":\"a\",\"data\":[{\"x\":{\"k\":1,\"k\":1}}]}",
            })
    void duplicateKeysAnywhereAreInvalidJson(String text) {
        assertError(ErrorCode.INVALID_JSON, text);
    }

    @Test
    void nestingAtTheLimitIsAcceptedAsMessageData() throws ProtocolException {
        // The frame object itself is level 1, so data may open MAX_NESTING_DEPTH - 1 more levels.
        int dataDepth = WireCodec.MAX_NESTING_DEPTH - 1;
        ClientMessage decoded = CODEC.decodeClient(messageWithData(nestedArrays(dataDepth)));

        JsonNode data = ((ClientMessage.Message) decoded).data();
        assertEquals(dataDepth, depth(data));
    }

    @Test
    void nestingOneLevelBeyondTheLimitIsInvalidJson() {
        assertError(ErrorCode.INVALID_JSON, messageWithData(nestedArrays(WireCodec.MAX_NESTING_DEPTH)));
        assertError(ErrorCode.INVALID_JSON, messageWithData(nestedObjects(WireCodec.MAX_NESTING_DEPTH)));
    }

    @Test
    void nestingFarBeyondTheLimitIsInvalidJson() {
        assertError(ErrorCode.INVALID_JSON, messageWithData(nestedArrays(100_000)));
    }

    @Test
    void numberLiteralAtTheLengthLimitIsAccepted() throws ProtocolException {
        String digits = "9".repeat(WireCodec.MAX_NUMBER_LENGTH);
        ClientMessage decoded = CODEC.decodeClient(messageWithData(digits));

        assertEquals(
                digits,
                ((ClientMessage.Message) decoded).data().bigIntegerValue().toString());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("overlongNumbers")
    void numberLiteralLongerThanTheLimitIsInvalidJson(String literal) {
        assertError(ErrorCode.INVALID_JSON, messageWithData(literal));
        assertError(ErrorCode.INVALID_JSON, "{\"type\":\"ack\",\"seq\":" + literal + "}");
    }

    static Stream<String> overlongNumbers() {
        int tooLong = WireCodec.MAX_NUMBER_LENGTH + 1;
        return Stream.of(
                "1".repeat(tooLong), "-" + "1".repeat(tooLong), "1." + "5".repeat(tooLong), "1".repeat(tooLong) + ".0");
    }

    // --- type ---

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{}",
                "{\"id\":\"a\",\"data\":1}",
                "{\"type\":null}",
                "{\"type\":1}",
                "{\"type\":true}",
                "{\"type\":[\"ping\"]}",
                "{\"type\":{\"name\":\"ping\"}}",
            })
    void missingOrNonStringTypeIsInvalidField(String text) {
        assertErrorNaming(ErrorCode.INVALID_FIELD, "type", text);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", "pong", "Ping", "PING", " ping", "session_ready", "event", "subscribe"})
    void unknownTypeIsUnknownType(String type) {
        assertError(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"" + type + "\"}");
    }

    @Test
    void unknownTypeMessageIsAbbreviated() {
        ProtocolException e = assertError(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"" + "x".repeat(10_000) + "\"}");
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    @Test
    void abbreviatedUnknownTypeNeverEndsInHalfASurrogatePair() {
        // 63 ASCII characters, then an emoji whose two UTF-16 units straddle the 64-character cut.
        String type = "x".repeat(63) + "\uD83D\uDE00" + "y".repeat(10);
        String message = assertError(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"" + type + "\"}")
                .getMessage();

        assertEquals(
                message,
                new String(message.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8),
                "message must be well-formed UTF-16");
    }

    @Test
    void unknownTypeIsReportedBeforeItsFieldsAreChecked() {
        assertError(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"later\",\"id\":5}");
    }

    // --- message ---

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{\"type\":\"message\"}",
                "{\"type\":\"message\",\"data\":{}}",
                "{\"type\":\"message\",\"id\":null,\"data\":{}}",
                "{\"type\":\"message\",\"id\":1,\"data\":{}}",
                "{\"type\":\"message\",\"id\":true,\"data\":{}}",
                "{\"type\":\"message\",\"id\":[\"a\"],\"data\":{}}",
                "{\"type\":\"message\",\"id\":{},\"data\":{}}",
                "{\"type\":\"message\",\"id\":\"\",\"data\":{}}",
            })
    void messageWithoutAStringIdIsInvalidField(String text) {
        assertErrorNaming(ErrorCode.INVALID_FIELD, "id", text);
    }

    @Test
    void messageIdLongerThanTheLimitIsInvalidField() {
        String id = "i".repeat(ClientMessage.MAX_ID_LENGTH + 1);
        assertErrorNaming(ErrorCode.INVALID_FIELD, "id", "{\"type\":\"message\",\"id\":\"" + id + "\",\"data\":1}");
    }

    @ParameterizedTest(name = "length {0}")
    @ValueSource(ints = {1, 2, ClientMessage.MAX_ID_LENGTH})
    void messageIdWithinTheLimitIsAccepted(int length) throws ProtocolException {
        String id = "i".repeat(length);
        assertEquals(
                new ClientMessage.Message(id, NullNode.getInstance()),
                CODEC.decodeClient("{\"type\":\"message\",\"id\":\"" + id + "\",\"data\":null}"));
    }

    @Test
    void messageWithoutDataIsAcceptedWithJsonNullData() throws ProtocolException {
        ClientMessage decoded = CODEC.decodeClient("{\"type\":\"message\",\"id\":\"m-1\"}");

        assertEquals(new ClientMessage.Message("m-1", NullNode.getInstance()), decoded);
        assertTrue(((ClientMessage.Message) decoded).data().isNull());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{\"text\":\"hi\",\"n\":[1,2,{\"x\":null}]}",
                "{}",
                "[1,\"two\",{\"three\":3}]",
                "[]",
                "\"plain text\"",
                "\"\"",
                "0",
                "-17",
                "3.25",
                "1e300",
                "123456789012345678901234567890",
                "true",
                "false",
                "null",
            })
    void messageDataMayBeAnyJson(String data) throws ProtocolException {
        ClientMessage decoded = CODEC.decodeClient(messageWithData(data));

        assertEquals(new ClientMessage.Message("m-1", tree(data)), decoded);
    }

    @Test
    void messageIdIsKeptVerbatim() throws ProtocolException {
        String id = " Ünïcødé \uD83D\uDE00 \\\"quoted\\\" ";
        ClientMessage decoded = CODEC.decodeClient("{\"type\":\"message\",\"id\":\"" + id + "\",\"data\":1}");

        assertEquals(" Ünïcødé \uD83D\uDE00 \"quoted\" ", ((ClientMessage.Message) decoded).id());
    }

    // --- ack ---

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{\"type\":\"ack\"}",
                "{\"type\":\"ack\",\"seq\":null}",
                "{\"type\":\"ack\",\"seq\":\"5\"}",
                "{\"type\":\"ack\",\"seq\":true}",
                "{\"type\":\"ack\",\"seq\":[5]}",
                "{\"type\":\"ack\",\"seq\":{\"n\":5}}",
                "{\"type\":\"ack\",\"seq\":-1}",
                "{\"type\":\"ack\",\"seq\":-9223372036854775808}",
                "{\"type\":\"ack\",\"seq\":1.5}",
                "{\"type\":\"ack\",\"seq\":5.0}",
                "{\"type\":\"ack\",\"seq\":1e3}",
                "{\"type\":\"ack\",\"seq\":9223372036854775808}",
                "{\"type\":\"ack\",\"seq\":18446744073709551616}",
                "{\"type\":\"ack\",\"seq\":-9223372036854775809}",
            })
    void ackWithoutANonNegativeLongSeqIsInvalidField(String text) {
        assertErrorNaming(ErrorCode.INVALID_FIELD, "seq", text);
    }

    @ParameterizedTest(name = "seq {0}")
    @ValueSource(longs = {0, 1, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, Long.MAX_VALUE})
    void ackWithSeqFromZeroToLongMaxIsAccepted(long seq) throws ProtocolException {
        assertEquals(new ClientMessage.Ack(seq), CODEC.decodeClient("{\"type\":\"ack\",\"seq\":" + seq + "}"));
    }

    @Test
    void ackWithNegativeZeroIsZero() throws ProtocolException {
        assertEquals(new ClientMessage.Ack(0), CODEC.decodeClient("{\"type\":\"ack\",\"seq\":-0}"));
    }

    // --- auth_refresh ---

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "{\"type\":\"auth_refresh\"}",
                "{\"type\":\"auth_refresh\",\"token\":null}",
                "{\"type\":\"auth_refresh\",\"token\":42}",
                "{\"type\":\"auth_refresh\",\"token\":true}",
                "{\"type\":\"auth_refresh\",\"token\":[\"abc\"]}",
                "{\"type\":\"auth_refresh\",\"token\":{\"jwt\":\"abc\"}}",
            })
    void authRefreshWithoutAStringTokenIsInvalidField(String text) {
        assertErrorNaming(ErrorCode.INVALID_FIELD, "token", text);
    }

    @Test
    void authRefreshCarriesItsToken() throws ProtocolException {
        assertEquals(
                new ClientMessage.AuthRefresh("a.b.c"),
                CODEC.decodeClient("{\"type\":\"auth_refresh\",\"token\":\"a.b.c\"}"));
    }

    @Test
    void authRefreshNeverPrintsItsToken() throws ProtocolException {
        String token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ";
        ClientMessage decoded = CODEC.decodeClient("{\"type\":\"auth_refresh\",\"token\":\"" + token + "\"}");

        assertFalse(decoded.toString().contains(token), decoded.toString());
        assertFalse(decoded.toString().contains("c2VjcmV0"), decoded.toString());
        assertFalse(new ClientMessage.AuthRefresh("x").toString().contains("=x"));
    }

    // --- lenient parts ---

    static Stream<Arguments> framesWithUnknownFields() {
        return Stream.of(
                Arguments.of("{\"type\":\"ping\",\"extra\":1}", new ClientMessage.Ping()),
                Arguments.of("{\"v\":2,\"type\":\"interrupt\",\"reason\":\"user\"}", new ClientMessage.Interrupt()),
                Arguments.of("{\"type\":\"ack\",\"seq\":3,\"future\":{\"x\":[1,null]}}", new ClientMessage.Ack(3)),
                Arguments.of(
                        "{\"type\":\"auth_refresh\",\"token\":\"t\",\"seq\":\"not checked\"}",
                        new ClientMessage.AuthRefresh("t")),
                Arguments.of(
                        "{\"type\":\"message\",\"id\":\"m\",\"data\":1,\"priority\":\"high\"}",
                        new ClientMessage.Message("m", tree("1"))));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("framesWithUnknownFields")
    void unknownExtraFieldsAreIgnored(String text, ClientMessage expected) throws ProtocolException {
        assertEquals(expected, CODEC.decodeClient(text));
    }

    // --- helpers ---

    private static ProtocolException assertError(ErrorCode expected, String text) {
        ProtocolException e = assertThrows(
                ProtocolException.class,
                () -> CODEC.decodeClient(text),
                () -> "decodeClient(" + abbreviate(text) + ") should fail");
        assertEquals(expected, e.code(), () -> abbreviate(text) + ": " + e.getMessage());
        return e;
    }

    private static void assertErrorNaming(ErrorCode expected, String field, String text) {
        ProtocolException e = assertError(expected, text);
        assertTrue(
                e.getMessage().startsWith(field + ":"), () -> "message should name " + field + ": " + e.getMessage());
    }

    private static String messageWithData(String data) {
        return "{\"type\":\"message\",\"id\":\"m-1\",\"data\":" + data + "}";
    }

    private static String nestedArrays(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    private static String nestedObjects(int depth) {
        return "{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
    }

    private static int depth(JsonNode node) {
        int depth = 0;
        while (node.isContainerNode()) {
            depth++;
            if (node.isEmpty()) {
                break;
            }
            node = node.elements().next();
        }
        return depth;
    }

    private static JsonNode tree(String json) {
        try {
            return CODEC.mapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
