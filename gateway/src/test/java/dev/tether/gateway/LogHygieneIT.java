package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No token, secret or Authorization header value ever reaches a log, at any level: every logger is
 * recorded at TRACE while tokens of every kind (valid, forged, expired, garbage) travel every way
 * the gateway accepts or refuses them, and no recorded line (message, key-values, stack traces)
 * may contain any part of them.
 */
class LogHygieneIT {

    private static final String OTHER_SECRET = "another-secret-that-the-gateway-does-not-know-0123456789";

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            worker:
              echo:
                deltas: 2
                delta_interval: 0ms
            """);

    private final List<String> secrets = new ArrayList<>();

    /** Remembers a token, or any other secret text, that must never be logged. */
    private String secret(String value) {
        secrets.add(value);
        return value;
    }

    @Test
    void noCredentialReachesAnyLogAtAnyLevel() throws Exception {
        try (LogCapture logs = LogCapture.everything()) {
            secret(gateway.config().auth().hmacSecret());
            String valid = secret(gateway.token("alice"));
            String forged =
                    secret(new TokenMinter(OTHER_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                            .mint("alice", Duration.ofHours(1), Map.of()));
            String expired = secret(new TokenMinter(
                            gateway.config().auth().hmacSecret().getBytes(StandardCharsets.UTF_8),
                            "HS256",
                            Clock.offset(Clock.systemUTC(), Duration.ofHours(-2)))
                    .mint("alice", Duration.ofMinutes(1), Map.of()));
            String none = secret(base64("{\"alg\":\"none\"}") + "."
                    + base64("{\"sub\":\"alice\",\"exp\":"
                            + Instant.now().plusSeconds(3600).getEpochSecond() + "}") + ".");
            String garbage = secret("this-is-not-a-jwt-but-still-a-credential-" + System.nanoTime());

            // Accepted, both forms; refused, every form.
            try (TestClient header = TestClient.connectWithHeader(gateway.uri(), valid)) {
                header.expect(ServerMessage.SessionReady.class);
                header.send(new ClientMessage.Message("m1", TextNode.valueOf("hi")));
                header.until(m -> m instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").textValue()));
                for (String refresh :
                        List.of(forged, expired, none, garbage, valid, secret(gateway.token("mallory")))) {
                    header.send(new ClientMessage.AuthRefresh(refresh));
                    header.until(m -> m instanceof ServerMessage.AuthOk || m instanceof ServerMessage.ErrorFrame);
                }
            }
            try (TestClient subprotocol = TestClient.connect(gateway.uri(), valid)) {
                subprotocol.expect(ServerMessage.SessionReady.class);
            }
            for (String token : List.of(forged, expired, none, garbage)) {
                assertEquals(
                        401,
                        RawHttp.upgrade(gateway.address(), "/ws", Map.of("Authorization", "Bearer " + token))
                                .status());
                assertEquals(
                        401,
                        RawHttp.upgrade(
                                        gateway.address(),
                                        "/ws",
                                        Map.of("Sec-WebSocket-Protocol", "gateway.v1, bearer." + token))
                                .status());
                assertEquals(
                        401,
                        RawHttp.upgrade(gateway.address(), "/ws?access_token=" + token, Map.of())
                                .status());
            }
            // Only the bearer entry, no gateway.v1: Netty's handshaker would log the requested list.
            assertEquals(
                    101,
                    RawHttp.upgrade(gateway.address(), "/ws", Map.of("Sec-WebSocket-Protocol", "bearer." + valid))
                            .status());
            // A resume of someone else's id with a valid token, and a malformed Authorization header.
            assertEquals(
                    101,
                    RawHttp.upgrade(
                                    gateway.address(),
                                    "/ws?session=AAAAAAAAAAAAAAAAAAAAAA",
                                    Map.of("Authorization", "Bearer " + valid))
                            .status());
            assertEquals(
                    401,
                    RawHttp.upgrade(gateway.address(), "/ws", Map.of("Authorization", "Basic " + garbage))
                            .status());

            List<String> lines = logs.rendered();
            assertFalse(lines.isEmpty(), "TRACE capture must have recorded the traffic");
            assertTrue(
                    lines.stream().anyMatch(l -> l.contains("upgrade refused")),
                    "refusals are logged, without credentials");
            for (String line : lines) {
                for (String secret : secrets) {
                    for (String part : secret.split("\\.", -1)) {
                        if (part.length() >= 8) {
                            assertFalse(line.contains(part), () -> "a credential reached the log: " + line);
                        }
                    }
                }
            }
        }
    }

    private static String base64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
