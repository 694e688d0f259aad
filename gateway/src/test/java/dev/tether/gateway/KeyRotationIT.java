package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.auth.KeyRing;
import dev.tether.gateway.auth.TestKeys;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import io.jsonwebtoken.Jwts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotating a verification key on a running gateway: the JWK Set file is replaced while a client
 * connected with the old key keeps streaming; once the gateway has reloaded the file, new
 * connections need the new key, and the connected session carries on untouched (it is not
 * re-verified; an {@code auth_refresh} with a new-key token succeeds).
 */
class KeyRotationIT {

    private static final KeyPair A = TestKeys.rsa(2048);
    private static final KeyPair B = TestKeys.rsa(2048);

    @TempDir
    static Path keys;

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig(() ->
            """
            server: {io_threads: 1}
            auth:
              algorithms: [RS256]
              public_keys: [{format: jwks, file: '%s'}]
              key_reload_interval: 200ms
            """.formatted(replace("jwks.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "key-a", "RS256", "sig")))));

    private final AtomicInteger turns = new AtomicInteger();

    @Test
    void rotatedKeyIsUsedForNewConnectionsWhileConnectedSessionsCarryOn() throws Exception {
        try (LogCapture logs = LogCapture.of(KeyRing.class.getName());
                TestClient old = TestClient.connect(gateway.uri(), token(A, "key-a", "old-user"))) {
            old.expect(ServerMessage.SessionReady.class);
            turn(old);
            assertEquals(401, upgrade(token(B, "key-b", "new-user")).status(), "key B is not configured yet");

            replace("jwks.json", TestKeys.jwkSet(TestKeys.jwk(B.getPublic(), "key-b", "RS256", "sig")));

            // Until the reload, the old session streams a turn per attempt, and B is refused.
            TestClient fresh = Poll.present("a key-b token accepted after the reload", () -> {
                turn(old);
                return TestClient.connectIfAccepted(gateway.uri(), token(B, "key-b", "new-user"));
            });
            try (fresh) {
                fresh.expect(ServerMessage.SessionReady.class);
                turn(fresh);
            }
            assertEquals(
                    "reloaded 1 verification keys (kids: key-b)",
                    logs.await(e -> e.getFormattedMessage().startsWith("reloaded"))
                            .getFormattedMessage());

            assertEquals(401, upgrade(token(A, "key-a", "another-user")).status(), "key A was removed");
            assertEquals(401, upgrade(token(A, null, "another-user")).status(), "key A was removed");

            assertTrue(old.isOpen());
            turn(old);
            old.send(new ClientMessage.AuthRefresh(token(B, "key-b", "old-user")));
            assertInstanceOf(ServerMessage.AuthOk.class, old.next());
            old.send(new ClientMessage.AuthRefresh(token(A, "key-a", "old-user")));
            assertEquals(
                    ErrorCode.AUTH_REFRESH_FAILED,
                    old.expect(ServerMessage.ErrorFrame.class).code());
            turn(old);
            assertTrue(logs.warnings().isEmpty(), logs.warnings().toString());
        }
    }

    /** One message and its whole turn: accepted, processing, the echo's events, idle. */
    private void turn(TestClient client) {
        String id = "m-" + turns.incrementAndGet();
        client.send(new ClientMessage.Message(
                id, JsonNodeFactory.instance.objectNode().put("text", "still here")));
        assertEquals(new ServerMessage.Accepted(id, false, 0), client.next());
        List<ServerMessage> rest =
                client.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
        assertTrue(
                rest.stream()
                        .anyMatch(m -> m instanceof ServerMessage.Event e
                                && "result".equals(e.event().path("type").asText())
                                && id.equals(e.event().path("id").asText())),
                rest.toString());
    }

    /** A connection with {@code token}, or null if the upgrade was refused. */
    private static RawHttp.Response upgrade(String token) throws IOException {
        return RawHttp.upgrade(gateway.address(), "/ws", Map.of("Authorization", "Bearer " + token));
    }

    private static String token(KeyPair pair, String kid, String subject) {
        var builder = Jwts.builder()
                .subject(subject)
                .expiration(Date.from(Instant.now().plusSeconds(3600)));
        if (kid != null) {
            builder.header().keyId(kid);
        }
        return builder.signWith(pair.getPrivate(), Jwts.SIG.RS256).compact();
    }

    /** Replaces the file the way operators should: write beside it, then rename over it. */
    private static Path replace(String name, String text) {
        try {
            Path next = Files.writeString(keys.resolve(name + ".next"), text);
            return Files.move(
                    next, keys.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
