package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TestKeys;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.ForgedTokens;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.HostileInputs;
import dev.tether.gateway.testing.HostileInputs.Expect;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.gateway.testing.SeqAudit;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Bytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-input suite: while an honest client streams turns on its session without pause,
 * thousands of seeded, randomized bad inputs are thrown at the same gateway, and every answer is
 * checked against the exact answer docs/protocol.md owes it.
 *
 * <ul>
 *   <li>Frame level ({@link HostileInputs}), on a few attacker connections, each replaced when the
 *       gateway closes it by design: truncated, bit-flipped and random JSON, wrong field types,
 *       huge numbers and strings, oversized frames, bad and out-of-range seqs, deep nesting,
 *       unknown types, binary frames, RFC 6455 violations (continuation without a start, a data
 *       frame inside a fragmented message, reserved bits and opcodes ...), fragmented messages,
 *       invalid UTF-8, control messages out of order and forged {@code auth_refresh} tokens. After
 *       every answer that leaves the connection open, a ping must be answered by the very next
 *       frame: nothing else is on its way.</li>
 *   <li>Upgrade level, on fresh sockets: forged tokens ({@link ForgedTokens}) in either credential
 *       form, resumes of the honest user's live session by another user, of random and malformed
 *       ids, and resumes of an attacker's own session with a garbage {@code last_seq}.</li>
 * </ul>
 *
 * <p>Seeded: {@code -Dtether.hostile.seed=N} repeats a run ({@code tether.hostile.count} sets the
 * number of inputs). Mismatches are collected and reported together at the end.
 */
class HostileInputIT {

    private static final String ISSUER = "https://issuer.hostile.example";
    private static final String AUDIENCE = "tether-hostile";
    private static final int MAX_FRAME_BYTES = 8 * 1024;
    private static final int MAX_MESSAGE_BYTES = 4 * 1024;
    private static final int ECHO_DELTAS = 3;
    private static final long DEFAULT_SEED = 20_240_611L;
    private static final int DEFAULT_COUNT = 3000;
    private static final int ATTACKER_CONNECTIONS = 3;
    private static final int REPORTED_MISMATCHES = 20;

    private static final KeyPair RSA = TestKeys.rsa(2048);
    private static final KeyPair OTHER_RSA = TestKeys.rsa(2048);
    private static final String RSA_PEM =
            TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded());
    private static final ForgedTokens TOKENS = new ForgedTokens(
            AuthConfig.DEV_HMAC_SECRET.getBytes(StandardCharsets.UTF_8), RSA, OTHER_RSA, RSA_PEM, ISSUER, AUDIENCE);
    private static final WireCodec CODEC = new WireCodec();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path keys;

    @RegisterExtension
    static final GatewayExtension gateway =
            GatewayExtension.withConfig(() -> """
            server:
              max_frame_bytes: 8KiB
            auth:
              algorithms: [HS256, RS256]
              public_keys: [{algorithm: RS256, file: '%s'}]
              issuer: %s
              audience: %s
            sessions:
              max_sessions: 100000
              max_sessions_per_user: 1000
            abuse:
              connections_per_second: 100000
              connection_burst: 100000
              messages_per_second: 100000
              message_burst: 100000
              max_strikes: 1000000
              max_message_bytes: 4KiB
            """.formatted(write("rsa.pem", RSA_PEM), ISSUER, AUDIENCE));

    @Test
    void everyHostileInputGetsItsAnswerAndTheHonestSessionStreamsOn() throws Exception {
        long seed = Long.getLong("tether.hostile.seed", DEFAULT_SEED);
        int count = Integer.getInteger("tether.hostile.count", DEFAULT_COUNT);
        System.out.println("HostileInputIT: seed " + seed + ", " + count + " inputs (repeat with -Dtether.hostile.seed="
                + seed + ")");
        assertEquals(MAX_FRAME_BYTES, gateway.config().server().maxFrameBytes());
        assertEquals(MAX_MESSAGE_BYTES, gateway.config().abuse().maxMessageBytes());
        Findings findings = new Findings(seed);
        long started = System.nanoTime();

        Honest honest = new Honest(findings);
        AtomicBoolean attacking = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(3);
        LogCapture logs = LogCapture.of("dev.tether");
        try {
            CompletableFuture<Void> honestRun = CompletableFuture.runAsync(() -> honest.run(attacking), threads);
            int upgrades = count / 4;
            CompletableFuture<Void> frameRun = CompletableFuture.runAsync(
                    () -> new FrameAttacker(new Random(seed), findings).run(count - upgrades), threads);
            CompletableFuture<Void> upgradeRun = CompletableFuture.runAsync(
                    () -> new UpgradeAttacker(seed, findings, honest).run(upgrades), threads);
            try {
                CompletableFuture.allOf(frameRun, upgradeRun).get(90, TimeUnit.SECONDS);
            } finally {
                attacking.set(false);
            }
            honestRun.get(30, TimeUnit.SECONDS);
        } finally {
            attacking.set(false);
            threads.shutdownNow();
            logs.close();
        }
        // Hostile input is the client's fault: nothing of it is worth a warning (let alone a stack trace).
        logs.warnings().stream()
                .limit(REPORTED_MISMATCHES)
                .forEach(warning -> findings.mismatch("logs", -1, "the whole run", "no warnings", warning));
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(
                "HostileInputIT: seed %d, %d inputs in %.1f s, %d honest turns; per category: %s%n",
                seed, findings.total(), seconds, honest.turns, findings.counts());

        // The honest session: every seq exactly once, on its one connection, which is still open.
        honest.audit.assertExactlyOnce(1, honest.audit.newest());
        assertEquals((long) honest.turns * (ECHO_DELTAS + 3), honest.audit.newest(), findings.tag("honest seqs"));
        assertTrue(honest.client.isOpen(), findings.tag("the honest connection is still open"));
        honest.client.send(new ClientMessage.Ping());
        assertInstanceOf(ServerMessage.Pong.class, honest.client.next(), findings.tag("the honest session is quiet"));
        Session session = gateway.server()
                .registry()
                .get(honest.sessionId)
                .orElseThrow(() -> new AssertionError(findings.tag("the honest session is gone from the registry")));
        assertEquals("honest", session.subject(), findings.tag("honest session owner"));
        assertFalse(
                session.terminated().toCompletableFuture().isDone(), findings.tag("the honest session has not ended"));
        honest.client.close();

        // The gateway still takes a brand-new session, with either algorithm, and runs a turn.
        for (String token : List.of(TOKENS.rs256("newcomer"), TOKENS.hs256("newcomer"))) {
            try (TestClient newcomer = TestClient.connectWithHeader(gateway.uri(), token)) {
                assertFalse(newcomer.expect(ServerMessage.SessionReady.class).resumed(), findings.tag("newcomer"));
                newcomer.send(
                        new ClientMessage.Message("n-1", JSON.getNodeFactory().textNode("after the storm")));
                List<ServerMessage> turn =
                        newcomer.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
                assertEquals(new ServerMessage.Accepted("n-1", false, 0), turn.get(0), findings.tag("newcomer"));
                SeqAudit.assertRange(findings.tag("newcomer seqs"), SeqAudit.seqs(turn), 1, ECHO_DELTAS + 3);
            }
        }
        findings.assertNone();
    }

    // ---- frame-level attacker ----------------------------------------------------------------------

    /** One attacker connection and what its session's answers depend on. */
    private static final class Attacker implements AutoCloseable {
        final String subject;
        final RawWebSocket ws;
        final Set<String> taken = new HashSet<>();
        long newest;

        Attacker(String subject, RawWebSocket ws) {
            this.subject = subject;
            this.ws = ws;
        }

        @Override
        public void close() {
            try {
                ws.close();
            } catch (IOException e) {
                // gone already
            }
        }
    }

    /** A wrong answer: thrown while checking one input, recorded, and the connection dropped. */
    private static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;
        final String expected;
        final String actual;

        Mismatch(String expected, Object actual) {
            super(expected + " / " + actual, null, false, false);
            this.expected = expected;
            this.actual = String.valueOf(actual);
        }
    }

    /** What one read returned: a decoded JSON frame, a close frame's code, or a WebSocket pong. */
    private record Got(ServerMessage message, Integer close, Bytes pong, String raw) {
        @Override
        public String toString() {
            if (close != null) {
                return "close " + close;
            }
            return pong != null ? "websocket pong " + pong : raw;
        }
    }

    private static final class FrameAttacker {
        private final Random random;
        private final Findings findings;
        private final HostileInputs inputs;
        private final Attacker[] connections = new Attacker[ATTACKER_CONNECTIONS];
        private int generation;

        FrameAttacker(Random random, Findings findings) {
            this.random = random;
            this.findings = findings;
            this.inputs = new HostileInputs(random, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, new HostileInputs.Tokens() {
                @Override
                public ForgedTokens.Forgery forge(String subject, Random r) {
                    return TOKENS.forge(subject, r);
                }

                @Override
                public String valid(String subject, Random r) {
                    return TOKENS.valid(subject, r);
                }
            });
        }

        void run(int count) {
            try {
                for (int i = 0; i < count; i++) {
                    int slot = random.nextInt(ATTACKER_CONNECTIONS);
                    Attacker attacker = connections[slot];
                    if (attacker == null) {
                        attacker = open();
                        connections[slot] = attacker;
                    }
                    HostileInputs.Input input = inputs.next(attacker.subject);
                    findings.count(input.category());
                    boolean open;
                    try {
                        open = attack(attacker, input);
                    } catch (Mismatch m) {
                        findings.mismatch(input.category(), i, input.summary(), m.expected, m.actual);
                        open = false;
                    } catch (IOException | RuntimeException e) {
                        findings.mismatch(input.category(), i, input.summary(), describe(input.expect()), e.toString());
                        open = false;
                    }
                    if (!open) {
                        attacker.close();
                        connections[slot] = null;
                    }
                }
            } catch (Mismatch | IOException e) {
                findings.mismatch(
                        "attacker connection", -1, "open an attacker connection", "session_ready", e.toString());
            } finally {
                for (Attacker attacker : connections) {
                    if (attacker != null) {
                        attacker.close();
                    }
                }
            }
        }

        private Attacker open() throws IOException, Mismatch {
            generation++;
            String subject = "attacker-" + generation;
            String token = generation % 2 == 0 ? TOKENS.hs256(subject) : TOKENS.rs256(subject);
            RawWebSocket ws = RawWebSocket.connect(gateway.address(), "/ws", token);
            Attacker attacker = new Attacker(subject, ws);
            Got first = read(attacker);
            if (!(first.message() instanceof ServerMessage.SessionReady ready)
                    || ready.resumed()
                    || ready.lastSeq() != 0) {
                attacker.close();
                throw new Mismatch("session_ready for a new session", first);
            }
            return attacker;
        }

        /** Sends one input and checks its answer; whether the connection is still open. */
        private boolean attack(Attacker attacker, HostileInputs.Input input) throws IOException, Mismatch {
            boolean closing = input.expect() instanceof Expect.Close;
            try {
                for (HostileInputs.Frame frame : input.frames()) {
                    attacker.ws.sendFrame(frame.fin(), frame.rsv(), frame.opcode(), frame.payload(), frame.masked());
                }
            } catch (IOException e) {
                // The gateway may close before the rest of a frame it refuses is written.
                if (!closing) {
                    throw e;
                }
            }
            return check(attacker, input.expect());
        }

        private boolean check(Attacker attacker, Expect expect) throws IOException, Mismatch {
            if (expect instanceof Expect.Close close) {
                Got got = read(attacker);
                if (got.close() == null || got.close() != close.code()) {
                    throw new Mismatch("close " + close.code(), got);
                }
                if (!attacker.ws.awaitEndOfStream()) {
                    throw new Mismatch("the connection ends after close " + close.code(), "still open");
                }
                return false;
            }
            if (expect instanceof Expect.WsPong pong) {
                Got got = read(attacker);
                if (!pong.data().equals(got.pong())) {
                    throw new Mismatch("websocket pong " + Arrays.toString(pong.payload()), got);
                }
                return check(attacker, pong.then());
            }
            if (expect instanceof Expect.ErrorFrame error) {
                expectError(attacker, error.code(), null);
            } else if (expect instanceof Expect.Pong) {
                expectMessage(attacker, new ServerMessage.Pong());
            } else if (expect instanceof Expect.AuthOk) {
                Got got = read(attacker);
                if (!(got.message() instanceof ServerMessage.AuthOk)) {
                    throw new Mismatch("auth_ok", got);
                }
            } else if (expect instanceof Expect.Decode decode) {
                answerAsDecoded(attacker, decode.text());
            }
            // Expect.Silence, and the end of every other answer: proven by the ping.
            assertQuiet(attacker);
            return true;
        }

        /** The oracle for text that may or may not decode: the shared codec's verdict, then the session's rules. */
        private void answerAsDecoded(Attacker attacker, String text) throws IOException, Mismatch {
            ClientMessage decoded;
            try {
                decoded = CODEC.decodeClient(text);
            } catch (ProtocolException e) {
                expectError(attacker, e.code(), null);
                return;
            }
            if (decoded instanceof ClientMessage.Ping) {
                expectMessage(attacker, new ServerMessage.Pong());
            } else if (decoded instanceof ClientMessage.Ack ack) {
                if (ack.seq() > attacker.newest) {
                    expectError(attacker, ErrorCode.INVALID_SEQUENCE, null);
                }
            } else if (decoded instanceof ClientMessage.AuthRefresh) {
                // Inputs that decode come from frames whose token is never a JWT (HostileInputs.validFrame).
                expectError(attacker, ErrorCode.AUTH_REFRESH_FAILED, null);
            } else if (decoded instanceof ClientMessage.Message message) {
                expectTurn(attacker, message);
            }
            // ClientMessage.Interrupt: the session is idle between inputs, so it is silent.
        }

        private void expectTurn(Attacker attacker, ClientMessage.Message message) throws IOException, Mismatch {
            // The size is judged at the edge (FrameCodec), before the session looks at the id.
            if (CODEC.mapper().valueToTree(message.data()).toString().getBytes(StandardCharsets.UTF_8).length
                    > MAX_MESSAGE_BYTES) {
                expectError(attacker, ErrorCode.MESSAGE_TOO_LARGE, message.id());
                return;
            }
            if (attacker.taken.contains(message.id())) {
                expectMessage(attacker, new ServerMessage.Accepted(message.id(), true, 0));
                return;
            }
            expectMessage(attacker, new ServerMessage.Accepted(message.id(), false, 0));
            attacker.taken.add(message.id());
            expectSequenced(
                    attacker,
                    "status processing",
                    m -> m instanceof ServerMessage.Status s && s.state() == SessionState.PROCESSING);
            String text = textOf(message.data());
            StringBuilder streamed = new StringBuilder();
            for (int i = 0; i < ECHO_DELTAS; i++) {
                ServerMessage.Event delta = (ServerMessage.Event) expectSequenced(
                        attacker,
                        "delta of " + message.id(),
                        m -> m instanceof ServerMessage.Event e
                                && "delta".equals(e.event().path("type").textValue())
                                && message.id().equals(e.event().path("id").textValue()));
                streamed.append(delta.event().path("text").textValue());
            }
            if (!streamed.toString().equals(text)) {
                throw new Mismatch(
                        "deltas spelling " + HostileInputs.abbreviate(text),
                        HostileInputs.abbreviate(streamed.toString()));
            }
            expectSequenced(
                    attacker,
                    "result of " + message.id() + " with its text",
                    m -> m instanceof ServerMessage.Event e
                            && "result".equals(e.event().path("type").textValue())
                            && message.id().equals(e.event().path("id").textValue())
                            && text.equals(e.event().path("text").textValue())
                            && !e.event().has("interrupted"));
            expectSequenced(
                    attacker,
                    "status idle",
                    m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
        }

        private ServerMessage expectSequenced(Attacker attacker, String what, Predicate<ServerMessage> test)
                throws IOException, Mismatch {
            Got got = read(attacker);
            if (!(got.message() instanceof ServerMessage.Sequenced s)
                    || s.seq() != attacker.newest + 1
                    || !test.test(got.message())) {
                throw new Mismatch(what + " at seq " + (attacker.newest + 1), got);
            }
            attacker.newest = s.seq();
            return got.message();
        }

        private void expectError(Attacker attacker, ErrorCode code, String id) throws IOException, Mismatch {
            Got got = read(attacker);
            if (!(got.message() instanceof ServerMessage.ErrorFrame error)
                    || error.code() != code
                    || !Objects.equals(error.id(), id)) {
                throw new Mismatch("error " + code.wire() + (id == null ? "" : " for " + id), got);
            }
        }

        private void expectMessage(Attacker attacker, ServerMessage expected) throws IOException, Mismatch {
            Got got = read(attacker);
            if (!expected.equals(got.message())) {
                throw new Mismatch(CODEC.encode(expected), got);
            }
        }

        /** Nothing is on its way: a ping now is answered by the very next frame. */
        private void assertQuiet(Attacker attacker) throws IOException, Mismatch {
            attacker.ws.sendText("{\"type\":\"ping\"}");
            Got got = read(attacker);
            if (!(got.message() instanceof ServerMessage.Pong)) {
                throw new Mismatch("nothing before the pong", got);
            }
        }

        private static Got read(Attacker attacker) throws IOException {
            RawWebSocket.Frame frame = attacker.ws.readFrame();
            if (frame.isClose()) {
                return new Got(null, frame.closeCode(), null, null);
            }
            if (frame.opcode() == RawWebSocket.OP_PONG) {
                return new Got(null, null, frame.data(), null);
            }
            String text = frame.text();
            try {
                return new Got(CODEC.decodeServer(text), null, null, HostileInputs.abbreviate(text));
            } catch (UncheckedIOException e) {
                return new Got(null, null, null, "undecodable: " + HostileInputs.abbreviate(text));
            }
        }
    }

    /** The echo worker's text for {@code data} (see EchoWorker). */
    private static String textOf(JsonNode data) {
        if (data.isTextual()) {
            return data.textValue();
        }
        JsonNode text = data.get("text");
        return text != null && text.isTextual() ? text.textValue() : data.toString();
    }

    private static String describe(Expect expect) {
        if (expect instanceof Expect.ErrorFrame e) {
            return "error " + e.code().wire();
        }
        if (expect instanceof Expect.Close c) {
            return "close " + c.code();
        }
        if (expect instanceof Expect.Decode d) {
            return "the answer to " + HostileInputs.abbreviate(d.text());
        }
        if (expect instanceof Expect.WsPong p) {
            return "websocket pong, then " + describe(p.then());
        }
        return expect.getClass().getSimpleName();
    }

    // ---- upgrade-level attacker --------------------------------------------------------------------

    private static final class UpgradeAttacker {
        private static final List<String> KINDS = List.of(
                "forged token",
                "forged token, resume of the honest session",
                "no credentials",
                "foreign resume of the honest session",
                "random well-formed id",
                "malformed id",
                "foreign resume with garbage last_seq",
                "own session with garbage last_seq",
                "malformed uri");
        private static final String BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        private final Random random;
        private final Findings findings;
        private final Honest honest;
        private String notFound;

        /** An attacker with a random stream of its own, derived from the run's {@code seed}. */
        UpgradeAttacker(long seed, Findings findings, Honest honest) {
            this.random = new Random(Long.rotateLeft(seed, 32) ^ 0x9E3779B97F4A7C15L);
            this.findings = findings;
            this.honest = honest;
        }

        void run(int count) {
            String liveId = honest.sessionId();
            RawWebSocket own = null;
            try {
                own = RawWebSocket.connect(gateway.address(), "/ws", TOKENS.hs256("prober"));
                ServerMessage.SessionReady ownReady = (ServerMessage.SessionReady)
                        CODEC.decodeServer(own.readFrame().text());
                // The canonical "not found" answer, which every refused resume must repeat exactly.
                notFound = resumeAnswer(randomId(), "0", TOKENS.hs256("prober"));
                for (int i = 0; i < count; i++) {
                    String kind = KINDS.get(random.nextInt(KINDS.size()));
                    findings.count("upgrade: " + kind);
                    try {
                        probe(kind, liveId, ownReady.sessionId());
                    } catch (Mismatch m) {
                        findings.mismatch("upgrade: " + kind, i, lastProbe, m.expected, m.actual);
                    } catch (IOException | RuntimeException e) {
                        findings.mismatch("upgrade: " + kind, i, lastProbe, "an answer", e.toString());
                    }
                }
                // The prober's own session was never disturbed by the refused resumes of it.
                own.sendText("{\"type\":\"ping\"}");
                String next = own.readFrame().text();
                if (!(CODEC.decodeServer(next) instanceof ServerMessage.Pong)) {
                    findings.mismatch("upgrade: own session", -1, "ping after the probes", "pong", next);
                }
            } catch (IOException | RuntimeException e) {
                findings.mismatch("upgrade", -1, "prober set-up", "a working prober", e.toString());
            } finally {
                if (own != null) {
                    try {
                        own.close();
                    } catch (IOException e) {
                        // gone already
                    }
                }
            }
        }

        private String lastProbe = "";

        private void probe(String kind, String liveId, String ownId) throws IOException, Mismatch {
            String attacker = "intruder-" + random.nextInt(5);
            switch (kind) {
                case "forged token", "forged token, resume of the honest session" -> {
                    ForgedTokens.Forgery forgery = TOKENS.forge(random.nextBoolean() ? "honest" : attacker, random);
                    String target = kind.equals("forged token") ? "/ws" : "/ws?session=" + liveId + "&last_seq=0";
                    boolean header = random.nextBoolean();
                    lastProbe = forgery.kind() + (header ? " in Authorization" : " in Sec-WebSocket-Protocol") + " on "
                            + target + ": " + HostileInputs.abbreviate(forgery.token());
                    expectUnauthorized(RawHttp.upgrade(
                            gateway.address(),
                            target,
                            header
                                    ? Map.of("Authorization", "Bearer " + forgery.token())
                                    : Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer." + forgery.token())));
                }
                case "no credentials" -> {
                    String valid = TOKENS.hs256(attacker);
                    List<Map<String, String>> headers = List.of(
                            Map.of(),
                            Map.of("Authorization", "Bearer "),
                            Map.of("Authorization", "Basic " + valid),
                            Map.of("Authorization", valid),
                            Map.of("Sec-WebSocket-Protocol", "gateway.v1"),
                            Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer."),
                            Map.of("Sec-WebSocket-Protocol", "gateway.v1, Bearer." + valid));
                    Map<String, String> chosen = headers.get(random.nextInt(headers.size()));
                    String target = random.nextBoolean() ? "/ws" : "/ws?access_token=" + valid;
                    lastProbe = "headers " + chosen.keySet() + " ("
                            + chosen.values().stream()
                                    .map(v -> v.length() > 20 ? v.substring(0, 20) + "..." : v)
                                    .toList()
                            + ") on " + target.substring(0, Math.min(target.length(), 30));
                    expectUnauthorized(RawHttp.upgrade(gateway.address(), target, chosen));
                }
                case "foreign resume of the honest session" -> expectNotFound(liveId, "0", attacker);
                case "random well-formed id" -> expectNotFound(randomId(), String.valueOf(random.nextInt(3)), attacker);
                case "malformed id" -> expectNotFound(malformedId(liveId), "0", attacker);
                case "foreign resume with garbage last_seq" -> expectNotFound(liveId, garbageSeq(), attacker);
                case "own session with garbage last_seq" -> {
                    String lastSeq = garbageSeq();
                    lastProbe = "resume own session " + ownId + " with last_seq " + HostileInputs.abbreviate(lastSeq);
                    String answer = resumeAnswer(ownId, lastSeq, TOKENS.valid("prober", random));
                    if (!answer.startsWith("invalid_sequence|") || !answer.endsWith("|4009")) {
                        throw new Mismatch("invalid_sequence then close 4009", answer);
                    }
                }
                case "malformed uri" -> {
                    String escape =
                            List.of("%", "%z", "%zz", "%G1", "%u0041", "%%").get(random.nextInt(6));
                    String target = switch (random.nextInt(4)) {
                        case 0 -> "/ws" + escape;
                        case 1 -> "/ws?session=" + escape + "&last_seq=0";
                        case 2 -> "/ws?session=" + liveId + "&last_seq=" + escape;
                        default -> "/ws?" + escape + "=1";
                    };
                    Map<String, String> credentials = switch (random.nextInt(3)) {
                        case 0 -> Map.of("Authorization", "Bearer " + TOKENS.valid(attacker, random));
                        case 1 ->
                            Map.of(
                                    "Authorization",
                                    "Bearer " + TOKENS.forge(attacker, random).token());
                        default -> Map.of();
                    };
                    lastProbe = target + " with " + (credentials.isEmpty() ? "no token" : "a token");
                    // The request target is checked before the credentials: not a URI, so 400.
                    expectRefusal(UpgradeRefusal.BAD_REQUEST, RawHttp.upgrade(gateway.address(), target, credentials));
                }
                default -> throw new AssertionError(kind);
            }
        }

        private void expectNotFound(String id, String lastSeq, String attacker) throws IOException, Mismatch {
            lastProbe = "resume " + HostileInputs.abbreviate(id) + " (live honest id: " + id.equals(honest.sessionId())
                    + ") with last_seq " + HostileInputs.abbreviate(lastSeq) + " as " + attacker;
            String answer = resumeAnswer(id, lastSeq, TOKENS.valid(attacker, random));
            if (!answer.equals(notFound)) {
                throw new Mismatch(notFound + " (as for a random id)", answer);
            }
        }

        /** Resumes {@code id} after the upgrade and returns "code|message|reason|close code". */
        private String resumeAnswer(String id, String lastSeq, String token) throws IOException {
            String target = "/ws?session=" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "&last_seq="
                    + URLEncoder.encode(lastSeq, StandardCharsets.UTF_8);
            try (RawWebSocket ws = RawWebSocket.connect(gateway.address(), target, token)) {
                RawWebSocket.Frame first = ws.readFrame();
                if (first.isClose()) {
                    return "no error frame|close " + first.closeCode();
                }
                ServerMessage message = CODEC.decodeServer(first.text());
                if (!(message instanceof ServerMessage.ErrorFrame error)) {
                    return "not an error: " + first.text();
                }
                return error.code().wire() + "|" + error.message() + "|" + error.reason() + "|" + ws.awaitCloseCode();
            }
        }

        private void expectUnauthorized(RawHttp.Response response) throws IOException, Mismatch {
            expectRefusal(UpgradeRefusal.UNAUTHORIZED, response);
        }

        /** A refusal exactly as docs/protocol.md shows it: status, JSON {error, message}, no Retry-After. */
        private void expectRefusal(UpgradeRefusal refusal, RawHttp.Response response) throws IOException, Mismatch {
            String expected =
                    refusal.status() + " {\"error\":\"" + refusal.code() + "\",\"message\":...} as application/json";
            if (response.status() != refusal.status()
                    || !String.valueOf(response.header("content-type")).startsWith("application/json")
                    || response.header("retry-after") != null
                    || response.header("sec-websocket-accept") != null) {
                throw new Mismatch(expected, response);
            }
            JsonNode body = JSON.readTree(response.body());
            if (body.size() != 2
                    || !refusal.code().equals(body.path("error").textValue())
                    || !body.path("message").isTextual()) {
                throw new Mismatch(expected, response);
            }
        }

        private String randomId() {
            StringBuilder id = new StringBuilder();
            for (int i = 0; i < 22; i++) {
                id.append(BASE64URL.charAt(random.nextInt(BASE64URL.length())));
            }
            return id.toString();
        }

        private String malformedId(String liveId) {
            return switch (random.nextInt(8)) {
                case 0 -> "";
                case 1 -> liveId.substring(0, 21);
                case 2 -> liveId + "A";
                case 3 -> liveId.replace(liveId.charAt(5), '=');
                case 4 ->
                    liveId.toUpperCase(Locale.ROOT).equals(liveId) ? liveId + "/" : liveId.toUpperCase(Locale.ROOT);
                case 5 -> " " + liveId;
                case 6 -> "../" + liveId;
                default -> randomId().substring(0, 1 + random.nextInt(21)) + "\u00e9\u0000%";
            };
        }

        private String garbageSeq() {
            return List.of(
                            "-1",
                            "abc",
                            "",
                            "1.5",
                            "99999999999999999999",
                            "9223372036854775808",
                            "0x10",
                            " 1",
                            "1e3",
                            "+1",
                            "1 ",
                            "٣",
                            "0" + random.nextInt(9) + "a",
                            String.valueOf(1_000_000 + random.nextInt(1_000_000)))
                    .get(random.nextInt(14));
        }
    }

    // ---- the honest client -------------------------------------------------------------------------

    /** Streams turns on one session without pause while the attack goes on, recording every seq. */
    private static final class Honest {
        final SeqAudit audit = new SeqAudit();
        final TestClient client;
        final String sessionId;
        private final Findings findings;
        /** Written by the honest thread only; read once its future has completed. */
        int turns;

        Honest(Findings findings) {
            this.findings = findings;
            this.client = TestClient.connectWithHeader(gateway.uri(), TOKENS.hs256("honest"));
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            this.sessionId = ready.sessionId();
        }

        String sessionId() {
            return sessionId;
        }

        void run(AtomicBoolean attacking) {
            Map<String, Integer> results = new HashMap<>();
            long last = 0;
            try {
                while (attacking.get() || turns < 20) {
                    String id = "honest-" + (turns + 1);
                    client.send(
                            new ClientMessage.Message(id, JSON.getNodeFactory().textNode("streaming " + id)));
                    while (true) {
                        ServerMessage m = client.next();
                        audit.record("honest", List.of(m));
                        if (m instanceof ServerMessage.Sequenced s) {
                            if (s.seq() != last + 1) {
                                findings.mismatch("honest", turns, id, "seq " + (last + 1), m.toString());
                            }
                            last = s.seq();
                        }
                        if (m instanceof ServerMessage.ErrorFrame
                                || m instanceof ServerMessage.SessionReplaced
                                || (m instanceof ServerMessage.Accepted a
                                        && !a.equals(new ServerMessage.Accepted(id, false, 0)))) {
                            findings.mismatch("honest", turns, id, "accepted " + id + " and its turn", m.toString());
                        }
                        if (m instanceof ServerMessage.Event e
                                && "result".equals(e.event().path("type").textValue())) {
                            results.merge(e.event().path("id").textValue(), 1, Integer::sum);
                        }
                        if (m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE) {
                            break;
                        }
                    }
                    turns++;
                    if (turns % 25 == 0) {
                        client.send(new ClientMessage.Ack(last));
                    }
                }
                for (int t = 1; t <= turns; t++) {
                    if (results.getOrDefault("honest-" + t, 0) != 1) {
                        findings.mismatch(
                                "honest",
                                t,
                                "honest-" + t,
                                "exactly one result",
                                results.get("honest-" + t) + " results");
                    }
                }
                if (results.size() != turns) {
                    findings.mismatch(
                            "honest",
                            turns,
                            "results",
                            turns + " distinct results",
                            results.keySet().toString());
                }
            } catch (RuntimeException | AssertionError e) {
                findings.mismatch("honest", turns, "honest-" + (turns + 1), "its turn", e.toString());
            }
        }
    }

    // ---- findings ----------------------------------------------------------------------------------

    /** Counts every input and collects every wrong answer, for one report at the end. Thread-safe. */
    private static final class Findings {
        private final long seed;
        private final Map<String, Integer> counts = new TreeMap<>();
        private final List<String> mismatches = new ArrayList<>();

        Findings(long seed) {
            this.seed = seed;
        }

        synchronized void count(String category) {
            counts.merge(category, 1, Integer::sum);
        }

        synchronized void mismatch(String category, int index, String input, String expected, String actual) {
            mismatches.add("[seed " + seed + "] " + category + " #" + index + ": input " + input + "\n      expected: "
                    + expected + "\n      actual:   " + actual);
        }

        synchronized int total() {
            return counts.values().stream().mapToInt(Integer::intValue).sum();
        }

        synchronized Map<String, Integer> counts() {
            return new TreeMap<>(counts);
        }

        /** {@code what}, with the seed that reproduces the run. */
        String tag(String what) {
            return what + " (seed " + seed + "; repeat with -Dtether.hostile.seed=" + seed + ")";
        }

        synchronized void assertNone() {
            if (mismatches.isEmpty()) {
                return;
            }
            StringBuilder report = new StringBuilder(
                            tag(mismatches.size() + " wrong answers out of " + total() + " inputs"))
                    .append("; the first ")
                    .append(Math.min(REPORTED_MISMATCHES, mismatches.size()))
                    .append(":");
            mismatches.stream()
                    .limit(REPORTED_MISMATCHES)
                    .forEach(m -> report.append("\n  ").append(m));
            fail(report.toString());
        }
    }

    private static Path write(String name, String content) {
        try {
            return Files.writeString(keys.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
