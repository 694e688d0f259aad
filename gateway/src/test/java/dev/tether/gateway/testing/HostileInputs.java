package dev.tether.gateway.testing;

import static java.util.Objects.requireNonNull;

import dev.tether.protocol.ErrorCode;
import dev.tether.testkit.Bytes;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded generator of hostile WebSocket input for one open connection, each with its oracle: the
 * exact answer the gateway owes it according to docs/protocol.md ("Bad input" and "Extensions and
 * choices beyond the contract"). Where an input's answer depends on what the text happens to
 * decode to (a bit flip may leave valid JSON) or on the session's state (an ack's seq, a repeated
 * message id), the oracle is {@link Expect.Decode}, resolved by the caller against its own
 * bookkeeping with the shared codec; everything else is stated here outright.
 *
 * <p>Not thread-safe: one generator per attacking thread, driven by that thread's {@link Random}.
 */
public final class HostileInputs {

    /** One WebSocket frame exactly as it goes on the wire. */
    public record Frame(boolean fin, int rsv, int opcode, Bytes data, boolean masked) {
        public Frame {
            requireNonNull(data, "data");
        }

        public Frame(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) {
            this(fin, rsv, opcode, Bytes.of(payload), masked);
        }

        /** A copy of the payload. */
        public byte[] payload() {
            return data.toArray();
        }

        static Frame text(byte[] payload) {
            return new Frame(true, 0, RawWebSocket.OP_TEXT, payload, true);
        }
    }

    /** What the gateway must answer. */
    public sealed interface Expect {
        /** One {@code error} frame with this code and no id, then nothing. */
        record ErrorFrame(ErrorCode code) implements Expect {}

        /** Decode {@code text} with the shared codec and answer as a session would (see the caller). */
        record Decode(String text) implements Expect {}

        /** A close frame with this code, then the end of the connection. */
        record Close(int code) implements Expect {}

        /** Nothing at all. */
        record Silence() implements Expect {}

        /** A {@code pong} frame (the JSON one). */
        record Pong() implements Expect {}

        /** A WebSocket pong carrying {@code payload}, then {@code then}. */
        record WsPong(Bytes data, Expect then) implements Expect {
            public WsPong(byte[] payload, Expect then) {
                this(Bytes.of(payload), then);
            }

            /** A copy of the payload. */
            public byte[] payload() {
                return data.toArray();
            }
        }

        /** {@code auth_ok}: a valid refresh for the connection's own subject. */
        record AuthOk() implements Expect {}
    }

    /** One hostile input: the frames to send and the answer they must get. */
    public record Input(String category, String summary, List<Frame> frames, Expect expect) {}

    /** Supplies tokens for {@code auth_refresh}: a forged one, a valid one for a subject. */
    public interface Tokens {
        ForgedTokens.Forgery forge(String subject, Random random);

        String valid(String subject, Random random);
    }

    private static final String[] TEXTS = {
        "hello",
        "héllo wörld",
        "✓ done",
        "emoji 😀 ok",
        "tab\tand\nnewline",
        "quote \" and backslash \\",
        "日本語のテキスト",
        "",
        "null",
        "<script>alert(1)</script>",
        "' OR 1=1 --"
    };
    private static final String[] WRONG_VALUES = {
        "1", "-1", "1.5", "true", "false", "null", "[]", "[1,2]", "{}", "{\"a\":1}", "\"\"", "1e3"
    };

    private final Random random;
    private final int maxFrameBytes;
    private final int maxMessageBytes;
    private final Tokens tokens;
    private int ids;

    /**
     * @param maxFrameBytes the gateway's {@code server.max_frame_bytes}
     * @param maxMessageBytes the gateway's {@code abuse.max_message_bytes}, for "huge string" sizes
     */
    public HostileInputs(Random random, int maxFrameBytes, int maxMessageBytes, Tokens tokens) {
        this.random = requireNonNull(random, "random");
        this.maxFrameBytes = maxFrameBytes;
        this.maxMessageBytes = maxMessageBytes;
        this.tokens = requireNonNull(tokens, "tokens");
    }

    /** The categories {@link #next} draws from, in the order of their weights. */
    public static final List<String> CATEGORIES = List.of(
            "truncated json",
            "bit-flipped json",
            "random text",
            "random bytes as text",
            "wrong field types",
            "huge numbers",
            "huge strings",
            "oversized frame",
            "bad seqs",
            "ack",
            "deep nesting",
            "unknown type",
            "binary frame",
            "continuation without start",
            "interleaved data frame",
            "rfc6455 violation",
            "fragmented message",
            "invalid utf-8",
            "out-of-order control",
            "auth_refresh forged",
            "valid message",
            "duplicate id",
            "escaped surrogates");

    private static final int[] WEIGHTS = {8, 10, 5, 4, 8, 5, 4, 2, 5, 4, 4, 4, 4, 2, 2, 2, 5, 3, 5, 4, 4, 3, 4};

    /** The next input for a connection authenticated as {@code subject}. */
    public Input next(String subject) {
        int total = Arrays.stream(WEIGHTS).sum();
        int pick = random.nextInt(total);
        int i = 0;
        while (pick >= WEIGHTS[i]) {
            pick -= WEIGHTS[i++];
        }
        String category = CATEGORIES.get(i);
        return switch (category) {
            case "truncated json" -> truncated();
            case "bit-flipped json" -> bitFlipped();
            case "random text" -> ofText(category, randomText(1 + random.nextInt(200)));
            case "random bytes as text" -> ofBytes(category, randomBytes(random.nextInt(300)));
            case "wrong field types" -> wrongFieldType();
            case "huge numbers" -> hugeNumber();
            case "huge strings" -> hugeString();
            case "oversized frame" -> oversized();
            case "bad seqs" -> badSeq();
            case "ack" -> ofText(category, "{\"type\":\"ack\",\"seq\":" + random.nextInt(200) + "}");
            case "deep nesting" -> deepNesting();
            case "unknown type" -> unknownType();
            case "binary frame" -> binary();
            case "continuation without start" -> continuationWithoutStart();
            case "interleaved data frame" -> interleaved();
            case "rfc6455 violation" -> violation();
            case "fragmented message" -> fragmented();
            case "invalid utf-8" -> invalidUtf8();
            case "out-of-order control" -> control(subject);
            case "auth_refresh forged" -> forgedRefresh(subject);
            case "valid message" -> ofText(category, validFrame());
            case "duplicate id" ->
                ofText(
                        category,
                        "{\"type\":\"message\",\"id\":\"dup-" + random.nextInt(4) + "\",\"data\":"
                                + quote(TEXTS[random.nextInt(TEXTS.length)]) + "}");
            case "escaped surrogates" -> escapedSurrogates();
            default -> throw new AssertionError(category);
        };
    }

    // ---- categories ----

    /**
     * JSON escapes that are valid JSON but not valid Unicode (lone surrogates) or are control
     * characters: the gateway must still answer, in valid UTF-8, and echo them intact.
     */
    private Input escapedSurrogates() {
        String odd = List.of("\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d", "\\u0000", "\\u001f", "\\ud83d\\ude00")
                .get(random.nextInt(7));
        return switch (random.nextInt(5)) {
            case 0 ->
                ofText("escaped surrogates", "{\"type\":\"message\",\"id\":\"" + nextId() + odd + "\",\"data\":1}");
            case 1 ->
                ofText(
                        "escaped surrogates",
                        "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":\"" + odd + "\"}");
            case 2 ->
                ofText(
                        "escaped surrogates",
                        "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":{\"text\":\"a" + odd + "b\"}}");
            case 3 ->
                explicit(
                        "escaped surrogates",
                        "{\"type\":\"pi" + odd + "ng\"}",
                        new Expect.ErrorFrame(ErrorCode.UNKNOWN_TYPE));
            default ->
                explicit(
                        "escaped surrogates",
                        "{\"type\":\"auth_refresh\",\"token\":\"" + odd + "\"}",
                        new Expect.ErrorFrame(ErrorCode.AUTH_REFRESH_FAILED));
        };
    }

    private Input truncated() {
        String whole = validFrame();
        int codePoints = whole.codePointCount(0, whole.length());
        int keep = random.nextInt(codePoints);
        String cut = whole.substring(0, whole.offsetByCodePoints(0, keep));
        return explicit("truncated json", cut, new Expect.ErrorFrame(ErrorCode.INVALID_JSON));
    }

    private Input bitFlipped() {
        byte[] bytes = validFrame().getBytes(StandardCharsets.UTF_8);
        int flips = 1 + random.nextInt(3);
        for (int f = 0; f < flips; f++) {
            int at = random.nextInt(bytes.length);
            // Mostly the low seven bits, which keep ASCII as ASCII; sometimes the high bit, which
            // usually makes the text invalid UTF-8.
            int bit = random.nextInt(10) == 0 ? 7 : random.nextInt(7);
            bytes[at] ^= (byte) (1 << bit);
        }
        return ofBytes("bit-flipped json", bytes);
    }

    private Input wrongFieldType() {
        String wrong = WRONG_VALUES[random.nextInt(WRONG_VALUES.length)];
        String text = switch (random.nextInt(7)) {
            case 0 -> "{\"type\":" + nonString(wrong) + "}";
            case 1 -> "{\"type\":\"message\",\"id\":" + nonString(wrong) + ",\"data\":\"x\"}";
            case 2 -> "{\"type\":\"ack\",\"seq\":" + nonInteger(wrong) + "}";
            case 3 -> "{\"type\":\"auth_refresh\",\"token\":" + nonString(wrong) + "}";
            case 4 ->
                List.of(
                                "{\"type\":\"message\",\"data\":\"x\"}",
                                "{\"type\":\"ack\"}",
                                "{\"type\":\"auth_refresh\"}",
                                "{\"id\":\"x\",\"data\":1}",
                                "{}")
                        .get(random.nextInt(5));
            case 5 -> "{\"type\":\"message\",\"id\":\"\",\"data\":1}";
            default -> "{\"type\":\"message\",\"id\":\"" + "i".repeat(257 + random.nextInt(500)) + "\"}";
        };
        return explicit("wrong field types", text, new Expect.ErrorFrame(ErrorCode.INVALID_FIELD));
    }

    private Input hugeNumber() {
        String digits100 = "9".repeat(100);
        return switch (random.nextInt(6)) {
            case 0 ->
                explicit(
                        "huge numbers",
                        "{\"type\":\"ack\",\"seq\":"
                                + List.of(
                                                "9223372036854775808",
                                                "18446744073709551616",
                                                "1e400",
                                                "-9223372036854775809",
                                                "1e18",
                                                "9223372036854775807.0")
                                        .get(random.nextInt(6))
                                + "}",
                        new Expect.ErrorFrame(ErrorCode.INVALID_FIELD));
            case 1 ->
                explicit(
                        "huge numbers",
                        "{\"type\":\"ack\",\"seq\":" + digits100 + "}",
                        new Expect.ErrorFrame(ErrorCode.INVALID_JSON));
            case 2 ->
                explicit(
                        "huge numbers",
                        "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":-" + digits100 + "}",
                        new Expect.ErrorFrame(ErrorCode.INVALID_JSON));
            case 3 ->
                explicit(
                        "huge numbers",
                        "{\"type\":\"ping\",\"extra\":1" + "0".repeat(64 + random.nextInt(100)) + "}",
                        new Expect.ErrorFrame(ErrorCode.INVALID_JSON));
            case 4 ->
                ofText(
                        "huge numbers",
                        "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":"
                                + List.of(
                                                "1e400",
                                                "-1e400",
                                                "9223372036854775808",
                                                "1" + "0".repeat(63),
                                                "4.9e-325",
                                                "-0",
                                                "0.0e0")
                                        .get(random.nextInt(7))
                                + "}");
            default -> ofText("huge numbers", "{\"type\":\"ack\",\"seq\":9223372036854775807}");
        };
    }

    private Input hugeString() {
        // Sized around abuse.max_message_bytes, always within the frame limit.
        int room = maxFrameBytes - 200;
        int length = Math.min(room, maxMessageBytes / 2 + random.nextInt(maxMessageBytes * 2));
        String big = randomAscii(length);
        return switch (random.nextInt(4)) {
            case 0 ->
                ofText("huge strings", "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":\"" + big + "\"}");
            case 1 ->
                explicit("huge strings", "{\"type\":\"" + big + "\"}", new Expect.ErrorFrame(ErrorCode.UNKNOWN_TYPE));
            case 2 ->
                explicit(
                        "huge strings",
                        "{\"type\":\"message\",\"id\":\"" + big + "\",\"data\":1}",
                        new Expect.ErrorFrame(ErrorCode.INVALID_FIELD));
            default -> ofText("huge strings", "{\"type\":\"ping\",\"padding\":\"" + big + "\"}");
        };
    }

    private Input oversized() {
        int length = maxFrameBytes + 1 + random.nextInt(maxFrameBytes);
        byte[] payload;
        int opcode;
        if (random.nextBoolean()) {
            payload = ("{\"type\":\"message\",\"id\":\"big\",\"data\":\"" + randomAscii(length) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            opcode = RawWebSocket.OP_TEXT;
        } else {
            payload = randomBytes(length);
            opcode = RawWebSocket.OP_BINARY;
        }
        if (random.nextBoolean()) {
            // In fragments that each fit, together over the limit.
            List<Frame> frames = split(opcode, payload, 2 + random.nextInt(3));
            return new Input(
                    "oversized frame", "fragmented " + describe(opcode, payload), frames, new Expect.Close(1009));
        }
        return new Input(
                "oversized frame",
                describe(opcode, payload),
                List.of(new Frame(true, 0, opcode, payload, true)),
                new Expect.Close(1009));
    }

    private Input badSeq() {
        String seq = List.of(
                        "-1",
                        "-9223372036854775808",
                        "-0.5",
                        "\"5\"",
                        "5.0",
                        "1e1",
                        "true",
                        "null",
                        "[1]",
                        "{\"n\":1}",
                        "9223372036854775808",
                        "99999999999999999999")
                .get(random.nextInt(12));
        return explicit(
                "bad seqs", "{\"type\":\"ack\",\"seq\":" + seq + "}", new Expect.ErrorFrame(ErrorCode.INVALID_FIELD));
    }

    private Input deepNesting() {
        int depth = random.nextInt(4) == 0 ? 64 : 65 + random.nextInt(400);
        StringBuilder open = new StringBuilder();
        StringBuilder close = new StringBuilder();
        // The frame object is level 1, so data nests depth - 1 levels.
        for (int level = 1; level < depth; level++) {
            if (random.nextBoolean()) {
                open.append('[');
                close.insert(0, ']');
            } else {
                open.append("{\"k\":");
                close.insert(0, '}');
            }
        }
        String inner = open + "0" + close;
        String field = random.nextBoolean() ? "data" : "unknown_field";
        String text = "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"" + field + "\":" + inner + "}";
        return depth > 64
                ? explicit("deep nesting", text, new Expect.ErrorFrame(ErrorCode.INVALID_JSON))
                : ofText("deep nesting", text);
    }

    private Input unknownType() {
        String type = List.of(
                        "Ping",
                        "PING",
                        " ping",
                        "ping ",
                        "pong",
                        "session_ready",
                        "error",
                        "accepted",
                        "",
                        "message\u0000",
                        "méssage",
                        "ack2",
                        "subscribe",
                        "__proto__",
                        "x-" + randomText(1 + random.nextInt(30)))
                .get(random.nextInt(15));
        return explicit(
                "unknown type", "{\"type\":" + quote(type) + "}", new Expect.ErrorFrame(ErrorCode.UNKNOWN_TYPE));
    }

    private Input binary() {
        byte[] payload = random.nextInt(4) == 0
                ? validFrame().getBytes(StandardCharsets.UTF_8)
                : randomBytes(random.nextInt(500));
        if (random.nextBoolean() && payload.length > 1) {
            return new Input(
                    "binary frame",
                    "fragmented " + describe(RawWebSocket.OP_BINARY, payload),
                    split(RawWebSocket.OP_BINARY, payload, 2 + random.nextInt(3)),
                    new Expect.ErrorFrame(ErrorCode.BINARY_NOT_SUPPORTED));
        }
        return new Input(
                "binary frame",
                describe(RawWebSocket.OP_BINARY, payload),
                List.of(new Frame(true, 0, RawWebSocket.OP_BINARY, payload, true)),
                new Expect.ErrorFrame(ErrorCode.BINARY_NOT_SUPPORTED));
    }

    private Input continuationWithoutStart() {
        byte[] payload = validFrame().getBytes(StandardCharsets.UTF_8);
        boolean fin = random.nextBoolean();
        return new Input(
                "continuation without start",
                "continuation fin=" + fin + " " + describe(0, payload),
                List.of(new Frame(fin, 0, RawWebSocket.OP_CONTINUATION, payload, true)),
                new Expect.Close(1002));
    }

    private Input interleaved() {
        byte[] first = "{\"type\":".getBytes(StandardCharsets.UTF_8);
        int startOpcode = random.nextBoolean() ? RawWebSocket.OP_TEXT : RawWebSocket.OP_BINARY;
        int newOpcode = random.nextBoolean() ? RawWebSocket.OP_TEXT : RawWebSocket.OP_BINARY;
        byte[] second = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
        return new Input(
                "interleaved data frame",
                "opcode " + startOpcode + " fragment, then a new opcode " + newOpcode + " frame",
                List.of(
                        new Frame(false, 0, startOpcode, first, true),
                        new Frame(random.nextBoolean(), 0, newOpcode, second, true)),
                new Expect.Close(1002));
    }

    private Input violation() {
        byte[] ping = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
        Frame frame = switch (random.nextInt(6)) {
            case 0 -> new Frame(true, 1 + random.nextInt(7), RawWebSocket.OP_TEXT, ping, true);
            case 1 -> new Frame(true, 0, RawWebSocket.OP_TEXT, ping, false);
            case 2 -> new Frame(true, 0, 3 + random.nextInt(5), ping, true);
            case 3 -> new Frame(true, 0, 0xB + random.nextInt(5), new byte[0], true);
            case 4 -> new Frame(false, 0, RawWebSocket.OP_PING, new byte[0], true);
            default -> new Frame(true, 0, RawWebSocket.OP_PING, randomBytes(126 + random.nextInt(200)), true);
        };
        return new Input(
                "rfc6455 violation",
                "fin=" + frame.fin() + " rsv=" + frame.rsv() + " opcode=" + frame.opcode() + " masked=" + frame.masked()
                        + " length=" + frame.payload().length,
                List.of(frame),
                new Expect.Close(1002));
    }

    private Input fragmented() {
        String text = random.nextBoolean() ? validFrame() : mutated(validFrame());
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        if (payload.length < 2) {
            return ofText("fragmented message", text);
        }
        List<Frame> frames = split(RawWebSocket.OP_TEXT, payload, 2 + random.nextInt(4));
        Expect expect = new Expect.Decode(text);
        if (random.nextBoolean()) {
            // A ping between fragments is answered at once; the message still arrives whole.
            byte[] ping = randomBytes(random.nextInt(20));
            List<Frame> withPing = new ArrayList<>(frames);
            withPing.add(1 + random.nextInt(frames.size() - 1), new Frame(true, 0, RawWebSocket.OP_PING, ping, true));
            frames = withPing;
            expect = new Expect.WsPong(ping, expect);
        }
        return new Input("fragmented message", frames.size() + " frames: " + abbreviate(text), frames, expect);
    }

    private Input invalidUtf8() {
        byte[][] bad = {
            {(byte) 0xC3, 0x28},
            {(byte) 0x80},
            {(byte) 0xBF},
            {(byte) 0xC0, (byte) 0xAF},
            {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xFF},
            {(byte) 0xFE},
            {(byte) 0xE2, (byte) 0x82},
            {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
        };
        byte[] insert = bad[random.nextInt(bad.length)];
        byte[] frame = validFrame().getBytes(StandardCharsets.UTF_8);
        int at = random.nextInt(frame.length + 1);
        byte[] payload = new byte[frame.length + insert.length];
        System.arraycopy(frame, 0, payload, 0, at);
        System.arraycopy(insert, 0, payload, at, insert.length);
        System.arraycopy(frame, at, payload, at + insert.length, frame.length - at);
        if (random.nextBoolean()) {
            // The oracle still decides: an insertion can, rarely, complete a sequence it landed in.
            String text = strictUtf8(payload);
            List<Frame> frames = split(RawWebSocket.OP_TEXT, payload, 2 + random.nextInt(3));
            return new Input(
                    "invalid utf-8",
                    "fragmented " + describe(RawWebSocket.OP_TEXT, payload),
                    frames,
                    text == null ? new Expect.Close(1007) : new Expect.Decode(text));
        }
        return ofBytes("invalid utf-8", payload);
    }

    private Input control(String subject) {
        return switch (random.nextInt(7)) {
            case 0 ->
                explicit(
                        "out-of-order control",
                        "{\"type\":\"auth_refresh\",\"token\":" + quote(randomText(random.nextInt(80))) + "}",
                        new Expect.ErrorFrame(ErrorCode.AUTH_REFRESH_FAILED));
            case 1 ->
                explicit(
                        "out-of-order control",
                        "{\"type\":\"auth_refresh\",\"token\":\"" + tokens.valid(subject + "-other", random) + "\"}",
                        new Expect.ErrorFrame(ErrorCode.AUTH_REFRESH_FAILED));
            case 2 ->
                explicit(
                        "out-of-order control",
                        "{\"type\":\"auth_refresh\",\"token\":\"" + tokens.valid(subject, random) + "\"}",
                        new Expect.AuthOk());
            case 3 -> explicit("out-of-order control", "{\"type\":\"interrupt\"}", new Expect.Silence());
            case 4 -> explicit("out-of-order control", "{\"type\":\"ack\",\"seq\":0}", new Expect.Silence());
            case 5 -> explicit("out-of-order control", "{\"type\":\"ping\"}", new Expect.Pong());
            default -> {
                byte[] payload = randomBytes(random.nextInt(126));
                yield new Input(
                        "out-of-order control",
                        "websocket ping of " + payload.length + " bytes",
                        List.of(new Frame(true, 0, RawWebSocket.OP_PING, payload, true)),
                        new Expect.WsPong(payload, new Expect.Silence()));
            }
        };
    }

    private Input forgedRefresh(String subject) {
        ForgedTokens.Forgery forgery = tokens.forge(subject, random);
        String text = "{\"type\":\"auth_refresh\",\"token\":" + quote(forgery.token()) + "}";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Expect expect = bytes.length > maxFrameBytes
                ? new Expect.Close(1009)
                : new Expect.ErrorFrame(ErrorCode.AUTH_REFRESH_FAILED);
        return new Input(
                "auth_refresh forged", forgery.kind() + ": " + abbreviate(text), List.of(Frame.text(bytes)), expect);
    }

    // ---- building blocks ----

    /**
     * A valid client frame of a random type. Its {@code auth_refresh} token is never a JWT, so no
     * mutation of it can be accepted (the caller's oracle relies on that).
     */
    private String validFrame() {
        return switch (random.nextInt(6)) {
            case 0 -> "{\"type\":\"ping\"}";
            case 1 -> "{\"type\":\"interrupt\"}";
            case 2 -> "{\"type\":\"ack\",\"seq\":" + random.nextInt(50) + "}";
            case 3 -> "{\"type\":\"auth_refresh\",\"token\":\"not-a-jwt-" + random.nextInt(1000) + "\"}";
            default -> "{\"type\":\"message\",\"id\":\"" + nextId() + "\",\"data\":" + randomData(0) + "}";
        };
    }

    private String randomData(int depth) {
        int kind = depth > 3 ? random.nextInt(4) : random.nextInt(7);
        return switch (kind) {
            case 0 -> quote(TEXTS[random.nextInt(TEXTS.length)]);
            case 1 -> String.valueOf(random.nextInt(2000) - 1000);
            case 2 -> random.nextBoolean() ? "true" : "null";
            case 3 -> String.valueOf(random.nextDouble());
            case 4 ->
                "{\"text\":" + quote(TEXTS[random.nextInt(TEXTS.length)]) + ",\"n\":" + randomData(depth + 1) + "}";
            case 5 -> "[" + randomData(depth + 1) + "," + randomData(depth + 1) + "]";
            default -> "{\"nested\":{\"deeper\":" + randomData(depth + 1) + "}}";
        };
    }

    private String mutated(String text) {
        StringBuilder s = new StringBuilder(text);
        int at = random.nextInt(s.length());
        s.setCharAt(at, (char) (s.charAt(at) ^ (1 << random.nextInt(7))));
        return s.toString();
    }

    private String nextId() {
        ids++;
        return "h-" + ids + (random.nextInt(5) == 0 ? "-ü✓" : "");
    }

    private Input explicit(String category, String text, Expect expect) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxFrameBytes) {
            expect = new Expect.Close(1009);
        }
        return new Input(category, abbreviate(text), List.of(Frame.text(bytes)), expect);
    }

    private Input ofText(String category, String text) {
        return ofBytes(category, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A single text frame of {@code bytes}: 1009 if too long, 1007 if not UTF-8, else what it decodes to. */
    private Input ofBytes(String category, byte[] bytes) {
        List<Frame> frames = List.of(Frame.text(bytes));
        if (bytes.length > maxFrameBytes) {
            return new Input(category, describe(RawWebSocket.OP_TEXT, bytes), frames, new Expect.Close(1009));
        }
        String text = strictUtf8(bytes);
        if (text == null) {
            return new Input(category, describe(RawWebSocket.OP_TEXT, bytes), frames, new Expect.Close(1007));
        }
        return new Input(category, abbreviate(text), frames, new Expect.Decode(text));
    }

    private List<Frame> split(int opcode, byte[] payload, int parts) {
        parts = Math.min(parts, payload.length);
        List<Frame> frames = new ArrayList<>();
        int[] cuts =
                random.ints(parts - 1, 1, payload.length).sorted().distinct().toArray();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : payload.length;
            frames.add(new Frame(
                    to == payload.length,
                    0,
                    i == 0 ? opcode : RawWebSocket.OP_CONTINUATION,
                    Arrays.copyOfRange(payload, from, to),
                    true));
            from = to;
        }
        return frames;
    }

    private String randomText(int length) {
        StringBuilder s = new StringBuilder();
        while (s.length() < length) {
            int cp = switch (random.nextInt(5)) {
                case 0 -> random.nextInt(0x20);
                case 1 -> 0x80 + random.nextInt(0x780);
                case 2 -> 0x1F600 + random.nextInt(0x50);
                default -> 0x20 + random.nextInt(0x5F);
            };
            s.appendCodePoint(cp);
        }
        return s.toString();
    }

    private String randomAscii(int length) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = (char) ('a' + random.nextInt(26));
        }
        return new String(chars);
    }

    private byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private static String nonString(String wrong) {
        return wrong.equals("\"\"") ? "7" : wrong;
    }

    private static String nonInteger(String wrong) {
        return wrong.equals("1") ? "\"1\"" : wrong;
    }

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format("\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }

    /** {@code bytes} as text if they are valid UTF-8 (as RFC 6455 requires of text frames), else null. */
    public static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String describe(int opcode, byte[] payload) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(24, payload.length); i++) {
            hex.append(String.format("%02x", payload[i]));
        }
        return "opcode " + opcode + ", " + payload.length + " bytes: " + hex + (payload.length > 24 ? "..." : "");
    }

    /** The first 100 characters of {@code text}, control characters escaped, and its length. */
    public static String abbreviate(String text) {
        StringBuilder s = new StringBuilder();
        text.codePoints().limit(100).forEach(cp -> {
            if (cp < 0x20) {
                s.append(String.format("\\u%04x", cp));
            } else {
                s.appendCodePoint(cp);
            }
        });
        return s + (text.length() > 100 ? "... (" + text.length() + " chars)" : "");
    }
}
