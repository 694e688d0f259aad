package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.auth.TestKeys;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.testkit.Poll;
import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.DeploymentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Contract section 1 ("Connecting") against real gateways on real sockets: both credential forms
 * and the selected subprotocol, every 401 cause (including RS/HS algorithm confusion), origin,
 * per-user and global admission limits, 404/400, that no refusal tells whether a session exists,
 * and that the gateway serves honest clients after a barrage of refusals.
 *
 * <p>Refusals are read with {@link RawHttp} (status, headers, body exactly as sent); successful
 * connections use the independent Tyrus {@link TestClient}. Each test uses its own subjects, since
 * the sessions it leaves behind count against per-user limits until their reconnect window ends.
 */
class UpgradeIT {

    private static final String ORIGIN = "https://app.example.com";
    private static final String ISSUER = "https://issuer.example.com";
    private static final String AUDIENCE = "tether";
    private static final byte[] SECRET = AuthConfig.DEV_HMAC_SECRET.getBytes(StandardCharsets.UTF_8);
    private static final String RETRY_AFTER = "5";

    private static final KeyPair RSA = TestKeys.rsa(2048);
    private static final KeyPair OTHER_RSA = TestKeys.rsa(2048);
    private static final KeyPair EC = TestKeys.ec("secp256r1");
    private static final KeyPair OTHER_EC = TestKeys.ec("secp256r1");
    private static final String RSA_PEM =
            TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path keys;

    /** Default auth (HS256, dev secret), two sessions per user. */
    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            server: {io_threads: 2}
            sessions:
              max_sessions_per_user: 2
            """);

    /**
     * An origin allow-list. Separate from {@link #gateway} because Tyrus, like a browser, sends an
     * {@code Origin} of its own (the gateway's address, whose port is not known before it starts).
     */
    @RegisterExtension
    static final GatewayExtension originGateway = GatewayExtension.withConfig("""
            server:
              io_threads: 1
              allowed_origins: ["https://app.example.com"]
            """);

    @RegisterExtension
    static final GatewayExtension queryTokenGateway = GatewayExtension.withConfig("""
            server: {io_threads: 1}
            auth: {allow_query_token: true}
            """);

    @RegisterExtension
    static final GatewayExtension rsaGateway =
            GatewayExtension.withConfig(() -> """
            server: {io_threads: 1}
            auth:
              algorithms: [RS256]
              public_keys: [{algorithm: RS256, file: '%s'}]
            """.formatted(write("rsa.pem", RSA_PEM)));

    @RegisterExtension
    static final GatewayExtension mixedGateway =
            GatewayExtension.withConfig(() -> """
            server: {io_threads: 1}
            auth:
              algorithms: [HS256, RS256]
              public_keys: [{algorithm: RS256, file: '%s'}]
            """.formatted(write("rsa-mixed.pem", RSA_PEM)));

    @RegisterExtension
    static final GatewayExtension ecGateway = GatewayExtension.withConfig(() -> """
            server: {io_threads: 1}
            auth:
              algorithms: [ES256]
              public_keys: [{algorithm: ES256, file: '%s'}]
            """.formatted(
                    write("ec.pem", TestKeys.pem("PUBLIC KEY", EC.getPublic().getEncoded()))));

    @RegisterExtension
    static final GatewayExtension issuerGateway = GatewayExtension.withConfig("""
            server: {io_threads: 1}
            auth:
              issuer: https://issuer.example.com
              audience: tether
            """);

    /** One session for the whole gateway, ended 300ms after its client goes away. */
    @RegisterExtension
    static final GatewayExtension capacityGateway = GatewayExtension.withConfig("""
            server: {io_threads: 1}
            sessions:
              max_sessions: 1
              reconnect_window: 300ms
            """);

    // ---- credentials and subprotocol -----------------------------------------------------------

    @Test
    void headerFormGetsSessionReady() {
        try (TestClient client = TestClient.connectWithHeader(gateway.uri(), gateway.token("header-user"))) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed());
            assertEquals(0, ready.lastSeq());
        }
    }

    @Test
    void headerFormOfferingGatewayV1GetsExactlyGatewayV1() {
        try (TestClient client = TestClient.connect(
                gateway.uri(),
                withHeaders(Map.of("Authorization", "Bearer " + gateway.token("header-v1-user")), "gateway.v1"))) {
            assertEquals("gateway.v1", client.subprotocol());
            client.expect(ServerMessage.SessionReady.class);
        }
    }

    @Test
    void subprotocolFormGetsSessionReadyAndExactlyGatewayV1() {
        try (TestClient client = TestClient.connect(gateway.uri(), gateway.token("browser-user"))) {
            assertEquals("gateway.v1", client.subprotocol());
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed());
        }
    }

    @Test
    void rawHandshakeResponseSelectsGatewayV1AndNeverEchoesTheToken() throws IOException {
        String token = gateway.token("raw-browser-user");
        RawHttp.Response response = RawHttp.upgrade(
                gateway.address(), "/ws", Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer." + token));

        assertEquals(101, response.status());
        assertEquals("gateway.v1", response.header("sec-websocket-protocol"));
        response.headers().forEach((name, value) -> {
            assertFalse(value.contains(token), "token echoed in " + name);
            assertFalse(value.contains("bearer."), "bearer entry echoed in " + name);
        });
    }

    // ---- 401 unauthorized ----------------------------------------------------------------------

    @Test
    void missingTokenIsUnauthorized() throws IOException {
        assertRefused(UpgradeRefusal.UNAUTHORIZED, RawHttp.upgrade(gateway.address(), "/ws", Map.of()));
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(gateway.address(), "/ws", Map.of("Sec-WebSocket-Protocol", "gateway.v1")));
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(gateway.address(), "/ws", Map.of("Authorization", "Bearer ")));
    }

    static Stream<Arguments> badTokens() {
        Instant now = Instant.now();
        return Stream.of(
                Arguments.of("garbage", "garbage"),
                Arguments.of("three garbage segments", "abc.def.ghi"),
                Arguments.of(
                        "alg none",
                        unsigned(Map.of(
                                "sub", "mallory", "exp", now.plusSeconds(3600).getEpochSecond()))),
                Arguments.of(
                        "alg none, signature kept",
                        stripAlg(hs256().subject("mallory").compact())),
                Arguments.of(
                        "HS256 with a wrong secret",
                        claims("mallory", now.plusSeconds(3600))
                                .signWith(
                                        hmacKey(
                                                "another-secret-that-is-long-enough-0123456789"
                                                        .getBytes(StandardCharsets.UTF_8),
                                                "HmacSHA256"),
                                        Jwts.SIG.HS256)
                                .compact()),
                Arguments.of(
                        "HS384 with the right secret, not configured",
                        claims("mallory", now.plusSeconds(3600))
                                .signWith(hmacKey(SECRET, "HmacSHA384"), Jwts.SIG.HS384)
                                .compact()),
                Arguments.of(
                        "signature tampered", tamper(hs256().subject("mallory").compact())),
                Arguments.of("expired beyond the clock skew", hs(claims("mallory", now.minusSeconds(120)))),
                Arguments.of(
                        "not yet valid beyond the clock skew",
                        hs(claims("mallory", now.plusSeconds(3600)).notBefore(Date.from(now.plusSeconds(120))))),
                Arguments.of("missing sub", hs(Jwts.builder().expiration(Date.from(now.plusSeconds(3600))))),
                Arguments.of("blank sub", hs(claims(" ", now.plusSeconds(3600)))),
                Arguments.of("missing exp", hs(Jwts.builder().subject("mallory"))),
                Arguments.of("RS256, not configured", rs256(RSA, "mallory").compact()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTokens")
    void badTokenIsUnauthorizedInEitherForm(String description, String token) throws IOException {
        assertUnauthorizedInEitherForm(gateway, token);
    }

    @Test
    void tokenWithinTheClockSkewIsAccepted() {
        Instant now = Instant.now();
        String justExpired = hs(claims("skew-user", now.minusSeconds(5)));
        String almostValid = hs(claims("skew-user", now.plusSeconds(3600)).notBefore(Date.from(now.plusSeconds(5))));
        for (String token : List.of(justExpired, almostValid)) {
            try (TestClient client = TestClient.connect(gateway.uri(), token)) {
                client.expect(ServerMessage.SessionReady.class);
            }
        }
    }

    @Test
    void queryTokenIsRefusedUnlessEnabled() throws IOException {
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(gateway.address(), "/ws?access_token=" + gateway.token("query-user"), Map.of()));

        URI withToken = URI.create(queryTokenGateway.uri() + "?access_token=" + queryTokenGateway.token("query-user"));
        try (TestClient client = TestClient.connect(
                withToken, ClientEndpointConfig.Builder.create().build())) {
            client.expect(ServerMessage.SessionReady.class);
        }
    }

    // ---- asymmetric keys and algorithm confusion -----------------------------------------------

    @Test
    void rs256GatewayAcceptsTokensSignedByItsKey() {
        try (TestClient client =
                TestClient.connect(rsaGateway.uri(), rs256(RSA, "rsa-user").compact())) {
            client.expect(ServerMessage.SessionReady.class);
        }
        try (TestClient client = TestClient.connectWithHeader(
                rsaGateway.uri(), rs256(RSA, "rsa-user").compact())) {
            client.expect(ServerMessage.SessionReady.class);
        }
    }

    static Stream<Arguments> rsaForgeries() {
        byte[] der = RSA.getPublic().getEncoded();
        return Stream.of(
                Arguments.of(
                        "HS256 keyed with the public key's PEM",
                        hs256With(RSA_PEM.getBytes(StandardCharsets.US_ASCII))),
                Arguments.of(
                        "HS256 keyed with the public key's PEM, no trailing newline",
                        hs256With(RSA_PEM.strip().getBytes(StandardCharsets.US_ASCII))),
                Arguments.of("HS256 keyed with the public key's DER", hs256With(der)),
                Arguments.of(
                        "RS256 signed by another key",
                        rs256(OTHER_RSA, "mallory").compact()),
                Arguments.of(
                        "alg none",
                        unsigned(Map.of(
                                "sub",
                                "mallory",
                                "exp",
                                Instant.now().plusSeconds(3600).getEpochSecond()))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rsaForgeries")
    void rs256GatewayRefusesForgeries(String description, String token) throws IOException {
        assertUnauthorizedInEitherForm(rsaGateway, token);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rsaForgeries")
    void gatewayWithHs256AndRs256RefusesForgeries(String description, String token) throws IOException {
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(mixedGateway.address(), "/ws", Map.of("Authorization", "Bearer " + token)));
    }

    @Test
    void gatewayWithHs256AndRs256AcceptsBoth() {
        try (TestClient client =
                TestClient.connect(mixedGateway.uri(), rs256(RSA, "mixed-user").compact())) {
            client.expect(ServerMessage.SessionReady.class);
        }
        try (TestClient client = TestClient.connect(mixedGateway.uri(), mixedGateway.token("mixed-user"))) {
            client.expect(ServerMessage.SessionReady.class);
        }
    }

    @Test
    void es256GatewayAcceptsItsKeyAndRefusesAnother() throws IOException {
        try (TestClient client = TestClient.connect(ecGateway.uri(), es256(EC, "ec-user"))) {
            client.expect(ServerMessage.SessionReady.class);
        }
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(
                        ecGateway.address(), "/ws", Map.of("Authorization", "Bearer " + es256(OTHER_EC, "mallory"))));
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(
                        ecGateway.address(),
                        "/ws",
                        Map.of(
                                "Authorization",
                                "Bearer " + hs256With(EC.getPublic().getEncoded()))));
    }

    @Test
    void issuerAndAudienceAreChecked() throws IOException {
        Instant exp = Instant.now().plusSeconds(3600);
        try (TestClient client = TestClient.connect(
                issuerGateway.uri(),
                hs(claims("iss-user", exp)
                        .issuer(ISSUER)
                        .audience()
                        .add(AUDIENCE)
                        .and()))) {
            client.expect(ServerMessage.SessionReady.class);
        }
        Map<String, String> refused = Map.of(
                "wrong issuer",
                        hs(claims("mallory", exp)
                                .issuer("https://evil.example.com")
                                .audience()
                                .add(AUDIENCE)
                                .and()),
                "wrong audience",
                        hs(claims("mallory", exp)
                                .issuer(ISSUER)
                                .audience()
                                .add("someone-else")
                                .and()),
                "no issuer", hs(claims("mallory", exp).audience().add(AUDIENCE).and()),
                "no audience", hs(claims("mallory", exp).issuer(ISSUER)));
        for (Map.Entry<String, String> entry : refused.entrySet()) {
            assertRefused(
                    UpgradeRefusal.UNAUTHORIZED,
                    RawHttp.upgrade(
                            issuerGateway.address(), "/ws", Map.of("Authorization", "Bearer " + entry.getValue())),
                    entry.getKey());
        }
    }

    // ---- origin --------------------------------------------------------------------------------

    @Test
    void originOutsideTheAllowListIsForbidden() throws IOException {
        for (String origin : List.of("https://evil.example.net", "https://app.example.com.evil.net")) {
            assertRefused(
                    UpgradeRefusal.ORIGIN_FORBIDDEN,
                    RawHttp.upgrade(
                            originGateway.address(),
                            "/ws",
                            Map.of("Origin", origin, "Authorization", "Bearer " + originGateway.token("origin-user"))),
                    origin);
        }
        // Tyrus's own Origin (the gateway's address) is not on the list either.
        DeploymentException refused = assertThrows(
                DeploymentException.class,
                () -> TestClient.tryConnect(
                        originGateway.uri(),
                        withHeaders(Map.of("Authorization", "Bearer " + originGateway.token("origin-user")))));
        assertTrue(String.valueOf(refused.getCause()).contains("403"), String.valueOf(refused.getCause()));
    }

    @Test
    void listedOriginAndNoOriginAreAccepted() throws IOException {
        RawHttp.Response listed = RawHttp.upgrade(
                originGateway.address(),
                "/ws",
                Map.of("Origin", ORIGIN, "Authorization", "Bearer " + originGateway.token("origin-ok-user")));
        assertEquals(101, listed.status());
        RawHttp.Response listedOtherCase = RawHttp.upgrade(
                originGateway.address(),
                "/ws",
                Map.of(
                        "Origin",
                        "HTTPS://APP.EXAMPLE.COM",
                        "Authorization",
                        "Bearer " + originGateway.token("origin-ok-user")));
        assertEquals(101, listedOtherCase.status());
        RawHttp.Response none = RawHttp.upgrade(
                originGateway.address(),
                "/ws",
                Map.of("Authorization", "Bearer " + originGateway.token("no-origin-user")));
        assertEquals(101, none.status());

        try (TestClient client = TestClient.connect(
                originGateway.uri(),
                withHeaders(Map.of(
                        "Origin", ORIGIN, "Authorization", "Bearer " + originGateway.token("origin-ok-user"))))) {
            client.expect(ServerMessage.SessionReady.class);
            roundTrip(client, "from-listed-origin");
        }
    }

    // ---- admission -----------------------------------------------------------------------------

    @Test
    void perUserLimitIsTooManyConnectionsButNotForOthersOrResumes() throws IOException {
        String token = gateway.token("limited-user");
        try (TestClient first = TestClient.connect(gateway.uri(), token);
                TestClient second = TestClient.connect(gateway.uri(), token)) {
            String firstId = first.expect(ServerMessage.SessionReady.class).sessionId();
            second.expect(ServerMessage.SessionReady.class);

            assertRefused(
                    UpgradeRefusal.TOO_MANY_CONNECTIONS,
                    RawHttp.upgrade(gateway.address(), "/ws", Map.of("Authorization", "Bearer " + token)));

            try (TestClient other = TestClient.connect(gateway.uri(), gateway.token("unlimited-user"))) {
                other.expect(ServerMessage.SessionReady.class);
            }

            try (TestClient resumed = TestClient.connect(gateway.resumeUri(firstId, 0), token)) {
                ServerMessage.SessionReady ready = resumed.expect(ServerMessage.SessionReady.class);
                assertTrue(ready.resumed());
                assertEquals(firstId, ready.sessionId());
                first.expect(ServerMessage.SessionReplaced.class);
                assertEquals(4001, first.awaitCloseCode());
            }
        }
    }

    @Test
    void globalLimitIsAtCapacityUntilASessionEnds() throws IOException {
        String token = capacityGateway.token("capacity-user");
        String sessionId;
        try (TestClient holder = TestClient.connect(capacityGateway.uri(), token)) {
            sessionId = holder.expect(ServerMessage.SessionReady.class).sessionId();

            assertRefused(
                    UpgradeRefusal.AT_CAPACITY,
                    RawHttp.upgrade(
                            capacityGateway.address(),
                            "/ws",
                            Map.of("Authorization", "Bearer " + capacityGateway.token("capacity-other"))));
            // A resume takes no slot, so a full gateway still lets the owner back in.
            try (TestClient resumed = TestClient.connect(capacityGateway.resumeUri(sessionId, 0), token)) {
                assertTrue(resumed.expect(ServerMessage.SessionReady.class).resumed());
            }
        }

        // Both connections are gone: the session ends when its reconnect window (300ms) does.
        Poll.until(
                "session ends after its reconnect window",
                Duration.ofSeconds(10),
                () -> capacityGateway.server().registry().get(sessionId).isEmpty());
        TestClient admitted = Poll.present(
                "a new session is admitted again",
                Duration.ofSeconds(10),
                () -> TestClient.connectIfAccepted(capacityGateway.uri(), capacityGateway.token("capacity-other")));
        try (admitted) {
            assertFalse(admitted.expect(ServerMessage.SessionReady.class).resumed());
            roundTrip(admitted, "after-capacity");
        }
    }

    // ---- routing -------------------------------------------------------------------------------

    @Test
    void otherPathIsNotFound() throws IOException {
        assertRefused(
                UpgradeRefusal.NOT_FOUND,
                RawHttp.upgrade(
                        gateway.address(), "/other", Map.of("Authorization", "Bearer " + gateway.token("path-user"))));
        assertRefused(UpgradeRefusal.NOT_FOUND, RawHttp.upgrade(gateway.address(), "/ws/extra", Map.of()));
    }

    @Test
    void plainGetToTheEndpointIsBadRequest() throws IOException {
        assertRefused(UpgradeRefusal.BAD_REQUEST, RawHttp.send(gateway.address(), plainGet("/ws")));
    }

    @Test
    void upgradeThatIsNotRfc6455IsBadRequestWithJsonBody() throws IOException {
        // With a valid token, so only the handshake's shape can be what is refused.
        String token = gateway.token("draft-user");
        List<String> drafts = List.of(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "Sec-WebSocket-Version: 13\r\n",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n");
        for (String headers : drafts) {
            RawHttp.Response response = RawHttp.send(gateway.address(), upgradeWithout(token, headers));
            assertRefused(UpgradeRefusal.BAD_REQUEST, response, headers);
            assertEquals("13", response.header("sec-websocket-version"), headers);
        }
        // None of them took one of draft-user's two slots.
        try (TestClient one = TestClient.connect(gateway.uri(), token);
                TestClient two = TestClient.connect(gateway.uri(), token)) {
            one.expect(ServerMessage.SessionReady.class);
            two.expect(ServerMessage.SessionReady.class);
        }
    }

    // ---- no refusal tells whether a session exists ---------------------------------------------

    @Test
    void refusedResumeOfALiveSessionLooksLikeOneOfARandomId() throws IOException {
        try (TestClient owner = TestClient.connect(gateway.uri(), gateway.token("victim-user"))) {
            String liveId = owner.expect(ServerMessage.SessionReady.class).sessionId();
            String randomId = randomSessionId();
            assertNotEquals(liveId, randomId);

            Instant now = Instant.now();
            Map<String, Map<String, String>> badCredentials = Map.of(
                    "no token", Map.of(),
                    "garbage token", Map.of("Authorization", "Bearer garbage"),
                    "attacker's expired token",
                            Map.of("Authorization", "Bearer " + hs(claims("victim-user", now.minusSeconds(600)))),
                    "forged token for the owner",
                            Map.of("Authorization", "Bearer " + tamper(gateway.token("victim-user"))),
                    "RS256 token this gateway does not take",
                            Map.of(
                                    "Authorization",
                                    "Bearer " + rs256(RSA, "victim-user").compact()));
            for (Map.Entry<String, Map<String, String>> entry : badCredentials.entrySet()) {
                RawHttp.Response live =
                        RawHttp.upgrade(gateway.address(), "/ws?session=" + liveId + "&last_seq=0", entry.getValue());
                RawHttp.Response random =
                        RawHttp.upgrade(gateway.address(), "/ws?session=" + randomId + "&last_seq=0", entry.getValue());
                assertTrue(live.status() >= 400, entry.getKey() + ": " + live);
                assertEquals(random.status(), live.status(), entry.getKey());
                assertEquals(random.headers(), live.headers(), entry.getKey());
                assertEquals(random.body(), live.body(), entry.getKey());
            }

            // The owner's session was not disturbed by any of it.
            roundTrip(owner, "after-probes");
        }
    }

    @Test
    void anotherUsersResumeOfALiveSessionLooksLikeOneOfARandomId() {
        try (TestClient owner = TestClient.connect(gateway.uri(), gateway.token("victim-user-2"))) {
            String liveId = owner.expect(ServerMessage.SessionReady.class).sessionId();
            String attackerToken = gateway.token("attacker-user");
            List<String> seen = new ArrayList<>();
            for (String id : List.of(liveId, randomSessionId())) {
                // Resumes are judged after the upgrade; both get the same frame and close code.
                try (TestClient attacker = TestClient.connect(gateway.resumeUri(id, 0), attackerToken)) {
                    ServerMessage.ErrorFrame error = attacker.expect(ServerMessage.ErrorFrame.class);
                    seen.add(error.code().wire() + "|" + error.message() + "|" + error.reason() + "|"
                            + attacker.awaitCloseCode());
                }
            }
            assertEquals(seen.get(1), seen.get(0));
            assertTrue(seen.get(0).startsWith("session_not_found|"), seen.get(0));
            assertTrue(seen.get(0).endsWith("|4004"), seen.get(0));
            roundTrip(owner, "after-foreign-resumes");
        }
    }

    // ---- the gateway survives refusals ---------------------------------------------------------

    @Test
    void gatewayServesHonestClientsAfterABarrageOfRefusals() throws IOException {
        InetSocketAddress address = gateway.address();
        String limitedToken = gateway.token("barrage-limited");
        try (TestClient a = TestClient.connect(gateway.uri(), limitedToken);
                TestClient b = TestClient.connect(gateway.uri(), limitedToken)) {
            a.expect(ServerMessage.SessionReady.class);
            b.expect(ServerMessage.SessionReady.class);
            for (int round = 0; round < 5; round++) {
                assertRefused(
                        UpgradeRefusal.TOO_MANY_CONNECTIONS,
                        RawHttp.upgrade(address, "/ws", Map.of("Authorization", "Bearer " + limitedToken)));
                assertRefused(UpgradeRefusal.UNAUTHORIZED, RawHttp.upgrade(address, "/ws", Map.of()));
                assertRefused(
                        UpgradeRefusal.UNAUTHORIZED,
                        RawHttp.upgrade(address, "/ws", Map.of("Authorization", "Bearer garbage")));
                assertRefused(
                        UpgradeRefusal.UNAUTHORIZED,
                        RawHttp.upgrade(
                                address,
                                "/ws",
                                Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer." + "x".repeat(9 * 1024))));
                assertRefused(
                        UpgradeRefusal.UNAUTHORIZED,
                        RawHttp.upgrade(
                                address,
                                "/ws?session=" + randomSessionId(),
                                Map.of("Authorization", "Bearer " + unsigned(Map.of("sub", "barrage")))));
                assertRefused(
                        UpgradeRefusal.ORIGIN_FORBIDDEN,
                        RawHttp.upgrade(originGateway.address(), "/ws", Map.of("Origin", "https://evil.example.net")));
                assertRefused(
                        UpgradeRefusal.UNAUTHORIZED,
                        RawHttp.upgrade(
                                rsaGateway.address(),
                                "/ws",
                                Map.of(
                                        "Authorization",
                                        "Bearer " + hs256With(RSA_PEM.getBytes(StandardCharsets.US_ASCII)))));
                assertRefused(UpgradeRefusal.NOT_FOUND, RawHttp.upgrade(address, "/nope", Map.of()));
                assertRefused(UpgradeRefusal.BAD_REQUEST, RawHttp.send(address, plainGet("/ws")));
                assertRefused(UpgradeRefusal.BAD_REQUEST, RawHttp.send(address, "NONSENSE\r\n\r\n"));
                assertRefused(
                        UpgradeRefusal.BAD_REQUEST,
                        RawHttp.send(
                                address,
                                upgradeWithout(
                                        gateway.token("barrage-draft"),
                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")));
                assertRefused(
                        UpgradeRefusal.BAD_REQUEST,
                        RawHttp.upgrade(address, "/ws", Map.of("X-Padding", "p".repeat(20 * 1024))));
            }
        }

        try (TestClient honest = TestClient.connect(gateway.uri(), gateway.token("honest-user"))) {
            honest.expect(ServerMessage.SessionReady.class);
            roundTrip(honest, "honest-1");
        }
        try (TestClient honest = TestClient.connectWithHeader(gateway.uri(), gateway.token("honest-user"))) {
            honest.expect(ServerMessage.SessionReady.class);
            roundTrip(honest, "honest-2");
        }
        try (TestClient honest = TestClient.connect(
                originGateway.uri(),
                withHeaders(Map.of("Origin", ORIGIN), "gateway.v1", "bearer." + originGateway.token("honest-user")))) {
            honest.expect(ServerMessage.SessionReady.class);
            roundTrip(honest, "honest-3");
        }
        try (TestClient honest =
                TestClient.connect(rsaGateway.uri(), rs256(RSA, "honest-user").compact())) {
            honest.expect(ServerMessage.SessionReady.class);
            roundTrip(honest, "honest-4");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** {@code token} is refused with 401 both in the Authorization header and in the subprotocol. */
    private static void assertUnauthorizedInEitherForm(GatewayExtension target, String token) throws IOException {
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(target.address(), "/ws", Map.of("Authorization", "Bearer " + token)));
        assertRefused(
                UpgradeRefusal.UNAUTHORIZED,
                RawHttp.upgrade(
                        target.address(), "/ws", Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer." + token)));
    }

    private static void assertRefused(UpgradeRefusal refusal, RawHttp.Response response) throws IOException {
        assertRefused(refusal, response, refusal.code());
    }

    private static void assertRefused(UpgradeRefusal refusal, RawHttp.Response response, String what)
            throws IOException {
        assertEquals(refusal.status(), response.status(), what + ": " + response);
        JsonNode body = JSON.readTree(response.body());
        assertEquals(refusal.code(), body.path("error").asText(), what + ": " + response.body());
        assertTrue(body.path("message").isTextual(), what + ": " + response.body());
        assertEquals(2, body.size(), what + ": body is exactly {error, message}: " + response.body());
        assertTrue(response.header("content-type").startsWith("application/json"), what + ": " + response);
        if (refusal.retryAfter()) {
            assertEquals(RETRY_AFTER, response.header("retry-after"), what + ": " + response);
        } else {
            assertNull(response.header("retry-after"), what + ": " + response);
        }
        assertNull(response.header("sec-websocket-accept"), what + ": " + response);
    }

    /** Sends a message and waits for its whole echo turn. */
    private static void roundTrip(TestClient client, String id) {
        client.send(new ClientMessage.Message(id, TextNode.valueOf("hello " + id)));
        List<ServerMessage> turn = client.until(m -> m instanceof ServerMessage.Event e
                && "result".equals(e.event().path("type").asText()));
        assertTrue(
                turn.stream().anyMatch(m -> m instanceof ServerMessage.Accepted a && a.id().equals(id)),
                turn.toString());
        ServerMessage.Event result = (ServerMessage.Event) turn.get(turn.size() - 1);
        assertEquals("hello " + id, result.event().path("text").asText());
    }

    private static ClientEndpointConfig withHeaders(Map<String, String> headers, String... subprotocols) {
        return ClientEndpointConfig.Builder.create()
                .preferredSubprotocols(List.of(subprotocols))
                .configurator(new ClientEndpointConfig.Configurator() {
                    @Override
                    public void beforeRequest(Map<String, List<String>> request) {
                        headers.forEach((name, value) -> request.put(name, List.of(value)));
                    }
                })
                .build();
    }

    /** An upgrade request with a bearer token and only the handshake {@code headers} given (CRLF-terminated lines). */
    private static String upgradeWithout(String token, String headers) {
        return "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Authorization: Bearer " + token + "\r\n" + headers + "\r\n";
    }

    private static String plainGet(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    // ---- tokens --------------------------------------------------------------------------------

    private static JwtBuilder claims(String subject, Instant expiry) {
        return Jwts.builder()
                .subject(subject)
                .issuedAt(Date.from(Instant.now()))
                .expiration(Date.from(expiry));
    }

    private static JwtBuilder hs256() {
        return claims("mallory", Instant.now().plusSeconds(3600))
                .signWith(hmacKey(SECRET, "HmacSHA256"), Jwts.SIG.HS256);
    }

    /** Signs with the configured HS256 secret. */
    private static String hs(JwtBuilder builder) {
        return builder.signWith(hmacKey(SECRET, "HmacSHA256"), Jwts.SIG.HS256).compact();
    }

    private static JwtBuilder rs256(KeyPair pair, String subject) {
        return claims(subject, Instant.now().plusSeconds(3600)).signWith(pair.getPrivate(), Jwts.SIG.RS256);
    }

    private static String es256(KeyPair pair, String subject) {
        return claims(subject, Instant.now().plusSeconds(3600))
                .signWith(pair.getPrivate(), Jwts.SIG.ES256)
                .compact();
    }

    /** An HS256 token whose HMAC key is {@code keyBytes}: the RS/HS confusion attack when they are a public key. */
    private static String hs256With(byte[] keyBytes) {
        return claims("mallory", Instant.now().plusSeconds(3600))
                .signWith(hmacKey(keyBytes, "HmacSHA256"), Jwts.SIG.HS256)
                .compact();
    }

    private static SecretKey hmacKey(byte[] bytes, String jcaName) {
        return new SecretKeySpec(bytes, jcaName);
    }

    /** A hand-made {@code alg: none} token, as jjwt refuses to build one. */
    private static String unsigned(Map<String, Object> claims) {
        try {
            return b64(JSON.writeValueAsBytes(Map.of("alg", "none", "typ", "JWT"))) + "."
                    + b64(JSON.writeValueAsBytes(claims)) + ".";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid token with its header swapped for {@code alg: none} and its signature kept. */
    private static String stripAlg(String token) {
        String[] parts = token.split("\\.", -1);
        return b64("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + "." + parts[2];
    }

    /** A valid token with one signature character changed. */
    private static String tamper(String token) {
        char last = token.charAt(token.length() - 2);
        return token.substring(0, token.length() - 2) + (last == 'A' ? 'B' : 'A') + token.charAt(token.length() - 1);
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String randomSessionId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return b64(bytes);
    }

    private static Path write(String name, String pem) {
        try {
            return Files.writeString(keys.resolve(name), pem);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void healthzAnswersOnTheSameListenerWithoutCredentials() throws Exception {
        RawHttp.Response response = RawHttp.send(
                gateway.address(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertEquals(200, response.status());
        assertEquals("{\"status\":\"alive\"}", response.body());
    }
}
