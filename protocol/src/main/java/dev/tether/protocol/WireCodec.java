package dev.tether.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON codec of the wire contract, shared by the gateway, the load-test client and tests.
 *
 * <p>Client frames are decoded strictly and field by field, so that every malformed frame maps to
 * the contract's error code with a message that says what was wrong: {@code invalid_json} for text
 * that is not exactly one JSON object (including trailing data, duplicate keys and nesting deeper
 * than {@link #MAX_NESTING_DEPTH}), {@code unknown_type} for a {@code type} this protocol does not
 * know, {@code invalid_field} for a missing or wrongly typed field. Unknown extra fields are ignored
 * so that clients can be newer than the server.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class WireCodec {

    /** Deepest JSON nesting accepted in a frame, {@code data} included. */
    public static final int MAX_NESTING_DEPTH = 64;

    /** Longest number literal accepted, in characters. */
    public static final int MAX_NUMBER_LENGTH = 64;

    /**
     * How a batch frame (contract 8.4) made of already encoded messages starts: a batch is this, the
     * messages' JSON separated by {@link #BATCH_SEPARATOR}, then {@link #BATCH_END}. The gateway
     * joins history frames it encoded once this way, without decoding them again; the result is
     * exactly what {@link #encode(ServerMessage)} writes for a {@link ServerMessage.Batch}.
     */
    public static final String BATCH_START = "{\"type\":\"batch\",\"messages\":[";

    /** Between two messages of a batch frame. */
    public static final String BATCH_SEPARATOR = ",";

    /** How a batch frame ends. */
    public static final String BATCH_END = "]}";

    private final ObjectMapper mapper;
    /** Writers resolved once: {@code writerFor} per frame resolved the root type's serializer again each time. */
    private final ObjectWriter serverWriter;

    private final ObjectWriter clientWriter;

    public WireCodec() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING_DEPTH)
                        .maxNumberLength(MAX_NUMBER_LENGTH)
                        .build())
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        this.mapper = JsonMapper.builder(factory)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
        this.serverWriter = mapper.writerFor(ServerMessage.class);
        this.clientWriter = mapper.writerFor(ClientMessage.class);
    }

    /** The configured mapper, for building {@link JsonNode}s in the same style. */
    public ObjectMapper mapper() {
        return mapper;
    }

    /** Encodes a server frame to JSON text. */
    public String encode(ServerMessage message) {
        return write(message, serverWriter);
    }

    /** Encodes a server frame to UTF-8 JSON bytes. */
    public byte[] encodeToBytes(ServerMessage message) {
        try {
            return serverWriter.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The size in bytes of a batch frame holding {@code messages} messages of {@code messageBytes}
     * UTF-8 bytes in all: what {@link #BATCH_START}, the separators and {@link #BATCH_END} add.
     */
    public static long batchFrameBytes(int messages, long messageBytes) {
        return BATCH_START.length()
                + BATCH_END.length()
                + (long) Math.max(0, messages - 1) * BATCH_SEPARATOR.length()
                + messageBytes;
    }

    /** Writes any JSON value as compact UTF-8 bytes (a worker checkpoint, for the session store). */
    public byte[] encodeJson(JsonNode value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Encodes a client frame to JSON text (for clients and tests). */
    public String encode(ClientMessage message) {
        return write(message, clientWriter);
    }

    /** Decodes a server frame (for clients and tests); fails on anything the contract does not define. */
    public ServerMessage decodeServer(String text) {
        try {
            return mapper.readValue(text, ServerMessage.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not a valid server frame: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes a client frame.
     *
     * @throws ProtocolException carrying {@code invalid_json}, {@code unknown_type} or
     *     {@code invalid_field} and a message naming what is wrong
     */
    public ClientMessage decodeClient(String text) throws ProtocolException {
        JsonNode node = parseObject(text);
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "type: expected a string");
        }
        return switch (type.textValue()) {
            case "message" -> new ClientMessage.Message(messageId(node), node.get("data"));
            case "ack" -> new ClientMessage.Ack(seq(node));
            case "interrupt" -> new ClientMessage.Interrupt();
            case "auth_refresh" -> new ClientMessage.AuthRefresh(requiredText(node, "token"));
            case "ping" -> new ClientMessage.Ping();
            case "end" -> new ClientMessage.End();
            case "extend" -> new ClientMessage.Extend();
            case "respond" -> new ClientMessage.Respond(requestId(node), node.get("data"));
            default ->
                throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown type: " + abbreviate(type.textValue()));
        };
    }

    /**
     * Parses text that must be exactly one JSON object.
     *
     * @throws ProtocolException with {@code invalid_json} otherwise
     */
    public JsonNode parseObject(String text) throws ProtocolException {
        JsonNode node;
        try (JsonParser parser = mapper.createParser(text)) {
            node = mapper.readTree(parser);
            if (parser.nextToken() != null) {
                throw new ProtocolException(ErrorCode.INVALID_JSON, "trailing data after the JSON object");
            }
        } catch (StreamConstraintsException e) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "JSON exceeds limits: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "expected one JSON object");
        }
        return node;
    }

    private static String messageId(JsonNode node) throws ProtocolException {
        String id = requiredText(node, "id");
        if (id.isEmpty() || id.length() > ClientMessage.MAX_ID_LENGTH) {
            throw new ProtocolException(
                    ErrorCode.INVALID_FIELD, "id: expected 1 to " + ClientMessage.MAX_ID_LENGTH + " characters");
        }
        return id;
    }

    private static String requestId(JsonNode node) throws ProtocolException {
        String id = requiredText(node, "request_id");
        if (id.isEmpty() || id.length() > ClientMessage.MAX_ID_LENGTH) {
            throw new ProtocolException(
                    ErrorCode.INVALID_FIELD,
                    "request_id: expected 1 to " + ClientMessage.MAX_ID_LENGTH + " characters");
        }
        return id;
    }

    private static long seq(JsonNode node) throws ProtocolException {
        JsonNode seq = node.get("seq");
        if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong() || seq.longValue() < 0) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "seq: expected an integer from 0 to 2^63-1");
        }
        return seq.longValue();
    }

    private static String requiredText(JsonNode node, String field) throws ProtocolException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, field + ": expected a string");
        }
        return value.textValue();
    }

    private static String abbreviate(String s) {
        if (s.length() <= 64) {
            return s;
        }
        // Never cut a surrogate pair in half: the reply would carry an unpaired surrogate.
        int end = Character.isHighSurrogate(s.charAt(63)) ? 63 : 64;
        return s.substring(0, end) + "...";
    }

    private static String write(Object message, ObjectWriter writer) {
        try {
            return writer.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
