package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.abuse.AddressRateLimiter;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UpgradeHandler} on an {@link EmbeddedChannel}, with real configuration, token verifier,
 * registry and refusal writer: every refusal, the hand-over of an accepted request, and the
 * handshake timeout (driven by the embedded loop's clock, never by sleeping).
 */
class UpgradeHandlerTest {

    private static final String ORIGIN = "https://app.example.com";
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    private static final long RETRY_AFTER_SECONDS = 5;
    private static final long DRAIN_RETRY_AFTER_SECONDS = 7;
    private static final String SESSION_ID = "q3Jz8Xw1Tn2hV0bLk9AaYw";

    private static final String CONFIG = """
            server:
              allowed_origins: ["https://app.example.com"]
              handshake_timeout: 3s
            sessions:
              max_sessions: 3
              max_sessions_per_user: 2
            """;

    private final ObjectMapper json = new ObjectMapper();
    private final GatewayConfig config = ConfigLoader.parse(CONFIG, Map.of());
    private final TokenVerifier verifier = PipelineFixtures.verifier(config.auth());
    private final TokenMinter minter = PipelineFixtures.minter(config.auth());
    private final SessionRegistry registry = PipelineFixtures.echoRegistry(config, verifier);
    private final AtomicLong now = new AtomicLong();
    private final Ticker ticker = now::get;
    private EmbeddedChannel channel;

    @AfterEach
    void closeChannel() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    // ---- accepted requests ---------------------------------------------------------------------

    @Test
    void newSessionRequestIsPassedOnWithACreateTicket() {
        channel = channel(config);
        assertTrue(channel.writeInbound(upgrade("/ws", "alice")), "the request travels on");

        FullHttpRequest passed = channel.readInbound();
        try {
            assertEquals("/ws", passed.uri());
            assertEquals(1, passed.refCnt(), "the handler must hand on exactly one reference");
        } finally {
            passed.release();
        }
        UpgradeTicket ticket = channel.attr(UpgradeTicket.KEY).get();
        UpgradeTicket.Create create = assertInstanceOf(UpgradeTicket.Create.class, ticket);
        assertEquals("alice", create.token().subject());
        assertNotNull(channel.pipeline().get(UpgradeHandler.class), "the handler stays until the handshake completes");
        assertNull(channel.readOutbound(), "nothing is written for an accepted request");
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void aBatchValueLeavesABatchHandlerCutToTheOperatorsMaximumOnTheChannel() {
        channel = channel(config);
        channel.writeInbound(upgrade("/ws?batch=40", "alice"));
        release(channel.readInbound());
        assertEquals(
                Duration.ofMillis(40).toNanos(),
                channel.attr(BatchHandler.KEY).get().delayNanos());
        assertFalse(channel.finish());

        channel = channel(withServerKey("max_batch_delay: 100ms"));
        channel.writeInbound(upgrade("/ws?batch=1000", "bob"));
        release(channel.readInbound());
        assertEquals(
                Duration.ofMillis(100).toNanos(),
                channel.attr(BatchHandler.KEY).get().delayNanos());
        assertFalse(channel.finish());

        channel = channel(withServerKey("max_batch_delay: 0s"));
        channel.writeInbound(upgrade("/ws?batch=1000", "carol"));
        release(channel.readInbound());
        assertNull(channel.attr(BatchHandler.KEY).get(), "batching off: one message per frame");
        assertFalse(channel.finish());
    }

    @Test
    void aBatchValueOutOfRangeOrNotANumberIsBadRequest() throws IOException {
        for (String target :
                List.of("/ws?batch=0", "/ws?batch=1001", "/ws?batch=x", "/ws?batch=", "/ws?session=s&batch=-1")) {
            channel = channel(config);
            channel.writeInbound(upgrade(target, "alice"));
            assertRefused(UpgradeRefusal.BAD_REQUEST);
            assertNull(channel.attr(UpgradeTicket.KEY).get(), target);
        }
    }

    /** The test's config with one more {@code server} key. */
    private static GatewayConfig withServerKey(String line) {
        return ConfigLoader.parse(CONFIG.replace("server:\n", "server:\n  " + line + "\n"), Map.of());
    }

    @Test
    void subprotocolCredentialIsAcceptedLikeTheHeader() {
        channel = channel(config);
        FullHttpRequest request = request(HttpMethod.GET, "/ws", true);
        request.headers().set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer." + token("bob"));
        channel.writeInbound(request);

        release(channel.readInbound());
        assertEquals("bob", channel.attr(UpgradeTicket.KEY).get().token().subject());
        assertFalse(channel.finish());
    }

    @Test
    void resumeRequestCarriesSessionIdAndRawLastSeqAndTakesNoSlot() {
        // Fill alice's per-user allowance: a resume must still pass, since it creates nothing.
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        channel = channel(config);
        channel.writeInbound(upgrade("/ws?session=" + SESSION_ID + "&last_seq=not-a-number", "alice"));

        FullHttpRequest passed = channel.readInbound();
        try {
            assertEquals("/ws", passed.uri(), "the handshaker sees exactly server.path, without the query");
        } finally {
            passed.release();
        }
        UpgradeTicket.Resume resume = assertInstanceOf(
                UpgradeTicket.Resume.class, channel.attr(UpgradeTicket.KEY).get());
        assertEquals(SESSION_ID, resume.sessionId());
        assertEquals("not-a-number", resume.lastSeq(), "last_seq is judged after the handshake, not here");
        assertEquals("alice", resume.token().subject());
        assertFalse(channel.finish());
    }

    @Test
    void resumeWithoutLastSeqHasNullLastSeq() {
        channel = channel(config);
        channel.writeInbound(upgrade("/ws?session=" + SESSION_ID, "alice"));

        release(channel.readInbound());
        UpgradeTicket.Resume resume = assertInstanceOf(
                UpgradeTicket.Resume.class, channel.attr(UpgradeTicket.KEY).get());
        assertEquals(SESSION_ID, resume.sessionId());
        assertNull(resume.lastSeq());
        assertFalse(channel.finish());
    }

    @Test
    void listedOriginIsAccepted() {
        channel = channel(config);
        FullHttpRequest request = upgrade("/ws", "alice");
        request.headers().set(HttpHeaderNames.ORIGIN, ORIGIN);
        channel.writeInbound(request);

        release(channel.readInbound());
        assertInstanceOf(
                UpgradeTicket.Create.class, channel.attr(UpgradeTicket.KEY).get());
        assertFalse(channel.finish());
    }

    // ---- refusals ------------------------------------------------------------------------------

    @Test
    void otherPathIsNotFound() throws IOException {
        channel = channel(config);
        channel.writeInbound(upgrade("/other", "alice"));
        assertRefused(UpgradeRefusal.NOT_FOUND);
    }

    @Test
    void plainGetToEndpointIsBadRequest() throws IOException {
        channel = channel(config);
        FullHttpRequest request = request(HttpMethod.GET, "/ws", false);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token("alice"));
        channel.writeInbound(request);
        assertRefused(UpgradeRefusal.BAD_REQUEST);
    }

    @Test
    void otherSpellingsOfThePathAreNotFound() throws IOException {
        for (String target : List.of(
                "/%77s",
                "/w%73",
                "/ws#x",
                "/ws/",
                "//ws",
                "/WS",
                "/ws;x",
                "/./ws",
                "/ws%3Fsession=x",
                "http://127.0.0.1/ws",
                "ws")) {
            channel = channel(config);
            channel.writeInbound(upgrade(target, "alice"));
            assertRefused(UpgradeRefusal.NOT_FOUND);
            assertNull(channel.attr(UpgradeTicket.KEY).get(), target + " reserved nothing");
        }
    }

    @Test
    void theEndpointMatchIsByteForByteOnTheRawPath() {
        assertTrue(UpgradeHandler.isEndpoint("/ws", "/ws"));
        assertTrue(UpgradeHandler.isEndpoint("/ws?session=x&last_seq=1", "/ws"));
        assertTrue(UpgradeHandler.isEndpoint("/ws?", "/ws"));
        assertFalse(UpgradeHandler.isEndpoint("/w", "/ws"));
        assertFalse(UpgradeHandler.isEndpoint("/wsx?session=x", "/ws"));
        assertFalse(UpgradeHandler.isEndpoint("/w%73", "/ws"));
        assertFalse(UpgradeHandler.isEndpoint("/ws#x", "/ws"));
        assertFalse(UpgradeHandler.isEndpoint("", "/ws"));
        assertTrue(UpgradeHandler.isEndpoint("/", "/"));
        assertFalse(UpgradeHandler.isEndpoint("/ws", "/"));
        assertTrue(UpgradeHandler.isEndpoint("/?session=x", "/"));
    }

    @Test
    void anyRequestAfterAnAcceptedOneClosesTheConnection() {
        channel = channel(config);
        channel.writeInbound(upgrade("/ws", "alice"));
        release(channel.readInbound());

        // A body of its own (not the shared empty buffer), so that its release can be seen.
        FullHttpRequest second = request(HttpMethod.GET, "/ws", true).replace(Unpooled.buffer(0));
        second.headers().set(HttpHeaderNames.ORIGIN, "https://evil.example");
        assertFalse(channel.writeInbound(second), "the second request goes nowhere");
        assertEquals(0, second.refCnt(), "and is released");
        assertFalse(channel.isOpen(), "the connection is closed");
        assertNull(channel.readOutbound(), "without an answer");
        assertFalse(channel.finish());
    }

    @Test
    void anyRequestAfterARefusedOneIsDropped() throws IOException {
        channel = channel(config);
        FullHttpRequest first = upgrade("/%77s", "alice");
        FullHttpRequest second = request(HttpMethod.GET, "/ws", true).replace(Unpooled.buffer(0));
        // Both in one read, as a pipelining client would send them: the refusal closes, nothing else is read.
        assertFalse(channel.writeInbound(first, second));
        assertEquals(0, second.refCnt());
        assertRefused(UpgradeRefusal.NOT_FOUND);
    }

    @Test
    void malformedPercentEscapeInTheUriIsBadRequest() throws IOException {
        for (String target :
                List.of("/ws%zz", "/ws?session=%zz&last_seq=0", "/ws?session=x&last_seq=%", "/ws?%u0041")) {
            channel = channel(config);
            channel.writeInbound(upgrade(target, "alice"));
            assertRefused(UpgradeRefusal.BAD_REQUEST);
        }
    }

    @Test
    void upgradeWithAnotherMethodIsBadRequest() throws IOException {
        channel = channel(config);
        FullHttpRequest request = request(HttpMethod.POST, "/ws", true);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token("alice"));
        channel.writeInbound(request);
        assertRefused(UpgradeRefusal.BAD_REQUEST);
    }

    @Test
    void requestTheDecoderCouldNotParseIsBadRequest() throws IOException {
        channel = channel(config);
        FullHttpRequest request = upgrade("/ws", "alice");
        request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("header too long")));
        channel.writeInbound(request);
        assertRefused(UpgradeRefusal.BAD_REQUEST);
    }

    @Test
    void upgradeWithoutRfc6455VersionOrKeyIsBadRequestNamingVersion13() throws IOException {
        List<Map<String, String>> variants = List.of(
                Map.of("Sec-WebSocket-Version", "8"),
                Map.of("Sec-WebSocket-Version", "0"),
                Map.of("Sec-WebSocket-Version", "99"),
                Map.of("Sec-WebSocket-Version", ""),
                Map.of("Sec-WebSocket-Key", ""));
        for (Map<String, String> changed : variants) {
            channel = channel(config);
            FullHttpRequest request = upgrade("/ws", "alice");
            changed.forEach((name, value) -> request.headers().set(name, value));
            channel.writeInbound(request);
            assertEquals(
                    "13",
                    assertRefused(UpgradeRefusal.BAD_REQUEST).headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION),
                    changed.toString());
        }
        for (CharSequence missing : List.of(HttpHeaderNames.SEC_WEBSOCKET_VERSION, HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            channel = channel(config);
            FullHttpRequest request = upgrade("/ws", "alice");
            request.headers().remove(missing);
            channel.writeInbound(request);
            assertEquals(
                    "13",
                    assertRefused(UpgradeRefusal.BAD_REQUEST).headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION),
                    "without " + missing);
        }
        // Nothing was admitted for any of them.
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
    }

    @Test
    void unlistedOriginIsForbidden() throws IOException {
        channel = channel(config);
        FullHttpRequest request = upgrade("/ws", "alice");
        request.headers().set(HttpHeaderNames.ORIGIN, "https://evil.example.net");
        channel.writeInbound(request);
        assertRefused(UpgradeRefusal.ORIGIN_FORBIDDEN);
    }

    @Test
    void missingTokenIsUnauthorized() throws IOException {
        channel = channel(config);
        channel.writeInbound(request(HttpMethod.GET, "/ws", true));
        Refused refused = assertRefused(UpgradeRefusal.UNAUTHORIZED);
        assertEquals("Bearer", refused.headers().get(HttpHeaderNames.WWW_AUTHENTICATE));
    }

    @Test
    void badTokenIsUnauthorized() throws IOException {
        channel = channel(config);
        FullHttpRequest request = request(HttpMethod.GET, "/ws", true);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer not.a.jwt");
        channel.writeInbound(request);
        assertRefused(UpgradeRefusal.UNAUTHORIZED);
    }

    @Test
    void queryTokenIsUnauthorizedUnlessEnabled() throws IOException {
        channel = channel(config);
        channel.writeInbound(request(HttpMethod.GET, "/ws?access_token=" + token("alice"), true));
        assertRefused(UpgradeRefusal.UNAUTHORIZED);
    }

    @Test
    void queryTokenIsAcceptedWhenEnabled() {
        GatewayConfig enabled = ConfigLoader.parse("auth: {allow_query_token: true}", Map.of());
        channel = channel(enabled);
        channel.writeInbound(request(HttpMethod.GET, "/ws?access_token=" + token("alice"), true));

        release(channel.readInbound());
        assertEquals("alice", channel.attr(UpgradeTicket.KEY).get().token().subject());
        assertFalse(channel.finish());
    }

    @Test
    void resumeWithBadTokenIsRefusedExactlyLikeANewSessionWithBadToken() throws IOException {
        channel = channel(config);
        FullHttpRequest resume = request(HttpMethod.GET, "/ws?session=" + SESSION_ID + "&last_seq=3", true);
        resume.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer not.a.jwt");
        channel.writeInbound(resume);
        String resumeBody = assertRefused(UpgradeRefusal.UNAUTHORIZED).body();

        channel = channel(config);
        FullHttpRequest fresh = request(HttpMethod.GET, "/ws", true);
        fresh.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer not.a.jwt");
        channel.writeInbound(fresh);
        String freshBody = assertRefused(UpgradeRefusal.UNAUTHORIZED).body();

        assertEquals(freshBody, resumeBody);
    }

    @Test
    void userOverItsLimitGetsTooManyConnections() throws IOException {
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        channel = channel(config);
        channel.writeInbound(upgrade("/ws", "alice"));
        assertRefused(UpgradeRefusal.TOO_MANY_CONNECTIONS);

        // The refusal gave its reservation back: another user still fits under max_sessions (3).
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("bob"));
    }

    @Test
    void gatewayAtItsLimitIsAtCapacity() throws IOException {
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("a"));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("b"));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("c"));
        channel = channel(config);
        channel.writeInbound(upgrade("/ws", "d"));
        assertRefused(UpgradeRefusal.AT_CAPACITY);
    }

    @Test
    void duringADrainNewSessionsAndResumesAreShuttingDownWithTheDrainRetryAfter() throws IOException {
        assertTrue(registry.drain(DRAIN_RETRY_AFTER_SECONDS).isDone(), "no session: no turn to wait for");
        channel = channel(config);
        channel.writeInbound(upgrade("/ws", "alice"));
        assertRefused(UpgradeRefusal.SHUTTING_DOWN);

        channel = channel(config);
        channel.writeInbound(upgrade("/ws?session=" + SESSION_ID + "&last_seq=0", "alice"));
        assertRefused(UpgradeRefusal.SHUTTING_DOWN);
        // No slot was reserved by the refused new session: the whole limit is still free.
        for (String subject : List.of("a", "b", "c")) {
            assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(subject));
        }
    }

    // ---- per-address connection rate -----------------------------------------------------------

    private static final InetSocketAddress FLOODER = new InetSocketAddress("10.0.0.1", 40000);
    private static final InetSocketAddress NEIGHBOUR = new InetSocketAddress("10.0.0.2", 40000);

    /** A channel whose peer is {@code peer}, counted by {@code handler}'s limiter as it becomes active. */
    private static EmbeddedChannel channelFrom(InetSocketAddress peer, UpgradeHandler handler) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false, handler) {
            @Override
            protected SocketAddress remoteAddress0() {
                return peer;
            }
        };
        ch.register();
        return ch;
    }

    @Test
    void addressOverItsConnectionRateIsRefusedBeforeAnythingElseWithRetryAfter() throws Exception {
        GatewayConfig limited = ConfigLoader.parse(CONFIG + """
                abuse:
                  connections_per_second: 0.25
                  connection_burst: 2
                """, Map.of());
        AddressRateLimiter addresses = new AddressRateLimiter(limited.abuse(), ticker);
        for (int i = 0; i < 2; i++) {
            EmbeddedChannel accepted = channelFrom(FLOODER, handler(limited, addresses));
            accepted.writeInbound(request(HttpMethod.GET, "/ws", true));
            FullHttpResponse unauthorized = accepted.readOutbound();
            assertEquals(401, unauthorized.status().code(), "within the burst, the request is judged as usual");
            unauthorized.release();
            assertFalse(accepted.finish());
        }

        channel = channelFrom(FLOODER, handler(limited, addresses));
        channel.writeInbound(upgrade("/ws", "alice"));
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(429, response.status().code());
            JsonNode body = json.readTree(response.content().toString(StandardCharsets.UTF_8));
            assertEquals("too_many_connections", body.path("error").asText());
            assertEquals("4", response.headers().get(HttpHeaderNames.RETRY_AFTER), "until the next token: 1 / 0.25 s");
        } finally {
            response.release();
        }
        assertNull(channel.attr(UpgradeTicket.KEY).get(), "refused before admission: no ticket, no slot");
        assertEquals(0, registry.size());
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());

        EmbeddedChannel neighbour = channelFrom(NEIGHBOUR, handler(limited, addresses));
        neighbour.writeInbound(upgrade("/ws", "bob"));
        release(neighbour.readInbound());
        assertFalse(neighbour.finish(), "another address is not affected");

        now.addAndGet(TimeUnit.SECONDS.toNanos(3));
        channel = channelFrom(FLOODER, handler(limited, addresses));
        channel.writeInbound(upgrade("/ws", "alice"));
        FullHttpResponse again = channel.readOutbound();
        assertEquals("1", again.headers().get(HttpHeaderNames.RETRY_AFTER), "rounded up, never 0");
        again.release();
        channel.finishAndReleaseAll();

        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        channel = channelFrom(FLOODER, handler(limited, addresses));
        channel.writeInbound(upgrade("/ws", "alice"));
        release(channel.readInbound());
    }

    // ---- handshake timeout ---------------------------------------------------------------------

    @Test
    void silentConnectionIsClosedAtTheHandshakeTimeout() throws Exception {
        channel = frozenChannel(config);

        channel.advanceTimeBy(HANDSHAKE_TIMEOUT.toNanos() - 1, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen(), "closed before server.handshake_timeout");

        channel.advanceTimeBy(1, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        assertFalse(channel.isOpen(), "still open at server.handshake_timeout");
        assertNull(channel.readOutbound(), "a timed-out connection is just closed");
        assertFalse(channel.finish());
    }

    @Test
    void acceptedRequestKeepsTheHandshakeTimeoutUntilTheUpgradeCompletes() throws Exception {
        channel = frozenChannel(config);
        channel.writeInbound(upgrade("/ws", "alice"));
        release(channel.readInbound());

        channel.advanceTimeBy(HANDSHAKE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        assertFalse(channel.isOpen(), "an accepted upgrade that never completes is closed at the handshake timeout");
        assertFalse(channel.finish());
    }

    @Test
    void completedUpgradeCancelsTheHandshakeTimeout() throws Exception {
        channel = frozenChannel(config);
        channel.writeInbound(upgrade("/ws", "alice"));
        release(channel.readInbound());
        UpgradeHandler.upgraded(channel.pipeline());
        assertNull(channel.pipeline().get(UpgradeHandler.class));

        channel.advanceTimeBy(HANDSHAKE_TIMEOUT.toNanos() * 2, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen(), "the upgrade handler's timeout outlived the handler");
        assertFalse(channel.finish());
    }

    // ---- helpers -------------------------------------------------------------------------------

    private EmbeddedChannel channel(GatewayConfig cfg) {
        return new EmbeddedChannel(handler(cfg));
    }

    /** A channel whose clock is frozen before the handler schedules its timeout. */
    private EmbeddedChannel frozenChannel(GatewayConfig cfg) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false, handler(cfg));
        ch.freezeTime();
        ch.register();
        assertTrue(ch.isActive());
        return ch;
    }

    private UpgradeHandler handler(GatewayConfig cfg) {
        return handler(cfg, new AddressRateLimiter(cfg.abuse(), ticker));
    }

    private UpgradeHandler handler(GatewayConfig cfg, AddressRateLimiter addresses) {
        TokenVerifier v = cfg.equals(config) ? verifier : PipelineFixtures.verifier(cfg.auth());
        return new UpgradeHandler(
                cfg.server(),
                cfg.auth(),
                v,
                registry,
                new Refusals(new WireCodec().mapper(), RETRY_AFTER_SECONDS),
                addresses,
                DRAIN_RETRY_AFTER_SECONDS);
    }

    private String token(String subject) {
        return minter.mint(subject, Duration.ofHours(1), Map.of());
    }

    private FullHttpRequest upgrade(String uri, String subject) {
        FullHttpRequest request = request(HttpMethod.GET, uri, true);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token(subject));
        return request;
    }

    private static FullHttpRequest request(HttpMethod method, String uri, boolean upgrade) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
        if (upgrade) {
            request.headers()
                    .set(HttpHeaderNames.UPGRADE, "websocket")
                    .set(HttpHeaderNames.CONNECTION, "Upgrade")
                    .set(HttpHeaderNames.SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
                    .set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
        }
        return request;
    }

    /** What a refusal said, read out of the released response. */
    private record Refused(HttpHeaders headers, String body) {}

    /**
     * Reads the one response, checks status, JSON body, headers and the close, and that the request
     * went no further; releases the response.
     */
    private Refused assertRefused(UpgradeRefusal refusal) throws IOException {
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(refusal.status(), response.status().code());
            String text = response.content().toString(StandardCharsets.UTF_8);
            JsonNode body = json.readTree(text);
            assertEquals(2, body.size(), "body is exactly {error, message}: " + body);
            assertEquals(refusal.code(), body.path("error").asText());
            assertTrue(
                    body.path("message").isTextual()
                            && !body.path("message").asText().isBlank(),
                    body.toString());
            assertEquals("application/json", response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            assertEquals(response.content().readableBytes(), response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH));
            if (refusal.status() == 429 || refusal.status() == 503) {
                long expected =
                        refusal == UpgradeRefusal.SHUTTING_DOWN ? DRAIN_RETRY_AFTER_SECONDS : RETRY_AFTER_SECONDS;
                assertEquals(String.valueOf(expected), response.headers().get(HttpHeaderNames.RETRY_AFTER));
            } else {
                assertFalse(response.headers().contains(HttpHeaderNames.RETRY_AFTER), "Retry-After on " + refusal);
            }
            assertNull(channel.readOutbound(), "one response only");
            assertNull(channel.readInbound(), "a refused request must not travel on");
            assertNull(channel.attr(UpgradeTicket.KEY).get(), "no ticket for a refused request");
            assertFalse(channel.isOpen(), "a refusal closes the connection");
            assertFalse(channel.finish());
            return new Refused(response.headers().copy(), text);
        } finally {
            response.release();
        }
    }

    private static void release(Object message) {
        assertInstanceOf(FullHttpRequest.class, message);
        assertEquals(1, ((FullHttpRequest) message).refCnt(), "exactly one reference handed on");
        ((FullHttpRequest) message).release();
    }
}
