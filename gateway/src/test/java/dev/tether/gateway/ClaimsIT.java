package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Claims forwarded to the worker (contract 1.2, 8.5) against a real gateway whose workers are shell
 * scripts that say ready and then record everything they are sent: the session line carries only
 * the claims {@code auth.forward_claims} names, a refreshed token with other values sends a claims
 * line and notice {@code claims_changed}, and neither token's text, nor a claim value that is itself
 * a token, ever reaches the worker.
 */
class ClaimsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path RECORDS = tempDir();

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("claims", """
            auth:
              forward_claims: [org, role, groups]
            worker:
              process:
                command: [sh, -c, 'echo "{\\"type\\":\\"ready\\"}"; exec cat >> %s/stdin-$$']
            """.formatted(RECORDS));

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("tether-claims-it");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every line the workers were sent so far. */
    private static List<String> recorded() {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(RECORDS)) {
            for (Path file : files.toList()) {
                lines.addAll(Files.readAllLines(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lines;
    }

    /** The lines of {@code type} sent to the worker of {@code sessionId} (claims lines follow its session line). */
    private static List<JsonNode> linesOf(String sessionId, String type) {
        List<JsonNode> found = new ArrayList<>();
        boolean mine = false;
        for (String line : recorded()) {
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if ("session".equals(node.path("type").asText())) {
                mine = sessionId.equals(node.path("session_id").asText());
            }
            if (mine && type.equals(node.path("type").asText())) {
                found.add(node);
            }
        }
        return found;
    }

    @Test
    void theWorkerGetsTheNamedClaimsOnlyThenTheChangedOnesAndNeverAToken() throws Exception {
        String leaky = gateway.token("someone-else"); // a claim value that is a token: never forwarded
        String first = gateway.minter()
                .mint(
                        "carol",
                        Duration.ofHours(1),
                        Map.of("org", "acme", "role", "dev", "groups", leaky, "email", "carol@acme.test"));
        String refreshed = gateway.minter()
                .mint("carol", Duration.ofHours(2), Map.of("org", "acme", "role", "admin", "email", "c@acme.test"));
        try (SessionClient c = SessionClient.openIdle(gateway.uri(), first)) {
            String id = c.sessionId();
            JsonNode session = Poll.until("the worker's session line", () -> linesOf(id, "session"), l -> !l.isEmpty())
                    .get(0);
            assertEquals(
                    JSON.readTree("{\"org\":\"acme\",\"role\":\"dev\"}"),
                    session.get("claims"),
                    "only the named claims, and not the one whose value is a token");

            c.send(new ClientMessage.AuthRefresh(refreshed));
            List<ServerMessage> upTo =
                    c.until(m -> m instanceof ServerMessage.Notice n && n.code().equals("claims_changed"));
            ServerMessage.Notice changed = (ServerMessage.Notice) upTo.get(upTo.size() - 1);
            assertEquals("[\"role\"]", changed.details().get("claims").toString());
            JsonNode claims = Poll.until("the worker's claims line", () -> linesOf(id, "claims"), l -> !l.isEmpty())
                    .get(0);
            assertEquals(JSON.readTree("{\"org\":\"acme\",\"role\":\"admin\"}"), claims.get("claims"));

            c.send(new ClientMessage.AuthRefresh(refreshed)); // the same values again: nothing changes
            c.send(new ClientMessage.Ping());
            c.expect(ServerMessage.AuthOk.class);
            c.expect(ServerMessage.Pong.class);
            assertEquals(1, linesOf(id, "claims").size(), "no claims line when nothing changed");
        }
        String everything = String.join("\n", recorded());
        for (String token : List.of(first, refreshed, leaky)) {
            assertFalse(everything.contains(token), "a token reached a worker");
            assertFalse(
                    everything.contains(token.substring(token.lastIndexOf('.') + 1)), "a signature reached a worker");
        }
        assertFalse(everything.contains("carol@acme.test"), "an unnamed claim reached a worker");
    }
}
