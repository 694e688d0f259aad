package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin API on its own listener, against a real gateway: who may use it, what it shows of
 * sessions (and that it never shows a token), ending a session as its client sees it, the pool.
 * The drain endpoint stops the gateway, so it has its own class ({@link AdminDrainIT}).
 */
class AdminIT {

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withDefaults();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(TestClient.TIMEOUT).build();

    /** A response: status and JSON body. */
    record Answer(int status, JsonNode body, String raw, HttpResponse<String> response) {}

    static String adminToken(GatewayExtension gateway) {
        return gateway.minter().mint("ops", Duration.ofMinutes(10), Map.of("roles", List.of("admin")));
    }

    static Answer call(GatewayExtension gateway, String method, String path, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.adminAddress().getPort() + path))
                .timeout(TestClient.TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(
                "application/json",
                response.headers().firstValue("content-type").orElse(""),
                response::body);
        return new Answer(response.statusCode(), JSON.readTree(response.body()), response.body(), response);
    }

    private static Answer admin(String method, String path) throws IOException, InterruptedException {
        return call(gateway, method, path, adminToken(gateway));
    }

    /** A new idle session of {@code subject} opened with {@code token}. */
    private static SessionClient openIdle(String token) {
        SessionClient client = SessionClient.open(gateway.uri(), token);
        if (client.ready.state() != SessionState.IDLE) {
            client.untilTag("status:idle");
        }
        return client;
    }

    private static JsonNode listed(String sessionId) throws IOException, InterruptedException {
        Answer list = admin("GET", "/admin/sessions");
        assertEquals(200, list.status(), list.raw());
        for (JsonNode session : list.body().get("sessions")) {
            if (session.get("id").asText().equals(sessionId)) {
                return session;
            }
        }
        throw new AssertionError("session " + sessionId + " not listed: " + list.raw());
    }

    @Test
    void anAdminCallIsLoggedWithItsPathButNeverItsQuery() throws Exception {
        try (LogCapture logs = LogCapture.of("dev.tether.gateway.admin.AdminAuthHandler")) {
            // Calls that change something are logged (reads are not).
            Answer end = admin("DELETE", "/admin/sessions/no-such-session?access_token=do-not-log-me&x=1");
            assertEquals(404, end.status(), end.raw());
            logs.await(e -> e.getFormattedMessage().equals("admin DELETE /admin/sessions/no-such-session"));
            assertTrue(
                    logs.events().stream()
                            .noneMatch(e -> e.getFormattedMessage().contains("do-not-log-me")),
                    logs.events()::toString);
        }
    }

    @Test
    void noTokenOrAForgedOneIs401() throws Exception {
        Answer none = call(gateway, "GET", "/admin/sessions", null);
        assertEquals(401, none.status());
        assertEquals("unauthorized", none.body().get("error").asText());
        assertEquals(
                "Bearer",
                none.response().headers().firstValue("www-authenticate").orElse(""));

        String forged = new TokenMinter(
                        "another-secret-another-secret-another-secret".getBytes(StandardCharsets.UTF_8),
                        "HS256",
                        Clock.systemUTC())
                .mint("ops", Duration.ofMinutes(5), Map.of("roles", List.of("admin")));
        Answer refused = call(gateway, "GET", "/admin/sessions", forged);
        assertEquals(401, refused.status());
        assertEquals("unauthorized", refused.body().get("error").asText());
        assertFalse(refused.raw().contains(forged));
    }

    @Test
    void aValidTokenWithoutTheAdminRoleIs403() throws Exception {
        for (String token : List.of(
                gateway.token("alice"),
                gateway.minter().mint("alice", Duration.ofMinutes(5), Map.of("roles", List.of("user"))))) {
            Answer answer = call(gateway, "GET", "/admin/sessions", token);
            assertEquals(403, answer.status(), answer.raw());
            assertEquals("forbidden", answer.body().get("error").asText());
        }
        Answer end = call(gateway, "DELETE", "/admin/sessions/whatever", gateway.token("alice"));
        assertEquals(403, end.status(), "no endpoint is reachable without the role");
    }

    @Test
    void aStringRoleClaimAsTheTokenCommandMintsItIsAccepted() throws Exception {
        String token = gateway.minter().mint("ops", Duration.ofMinutes(5), Map.of("roles", "admin"));
        assertEquals(200, call(gateway, "GET", "/admin/sessions", token).status());
    }

    @Test
    void listsAndShowsALiveSessionWithoutItsToken() throws Exception {
        String token = gateway.token("list-me");
        try (SessionClient client = openIdle(token)) {
            for (JsonNode session : List.of(
                    listed(client.sessionId()),
                    admin("GET", "/admin/sessions/" + client.sessionId()).body())) {
                assertEquals(client.sessionId(), session.get("id").asText());
                assertEquals("list-me", session.get("subject").asText());
                assertEquals("idle", session.get("state").asText());
                assertTrue(session.get("attached").asBoolean());
                assertEquals(client.lastSeq(), session.get("newest_seq").asLong());
                assertTrue(session.get("worker_pid").isNull(), "the echo worker has no process");
                assertTrue(session.get("worker_rss_bytes").isNull());
                assertEquals(0, session.get("viewers").asInt());
                assertTrue(session.get("worker_disk_bytes").isNull(), "the echo worker has no directory");
                assertTrue(session.get("age_seconds").asLong() >= 0);
                assertEquals(
                        client.ready.tokenExpiresAt(),
                        session.get("token_expires_at").asLong());
                String text = session.toString();
                for (String part : token.split("\\.", -1)) {
                    assertFalse(text.contains(part), "no part of the session's token is shown: " + text);
                }
            }
        }
    }

    /** The snapshot counts the session's viewers (contract 7.4) as they come and go. */
    @Test
    void theSnapshotCountsTheSessionsViewers() throws Exception {
        String token = gateway.token("watched");
        try (SessionClient owner = openIdle(token)) {
            String path = "/admin/sessions/" + owner.sessionId();
            URI view = URI.create(gateway.uri() + "?session=" + owner.sessionId() + "&role=viewer&last_seq=0");
            try (SessionClient viewer = SessionClient.open(view, token)) {
                assertEquals(Role.VIEWER, viewer.ready().role());
                Poll.until("one viewer", () -> viewersOf(path), n -> n == 1);
                assertEquals(1, listed(owner.sessionId()).get("viewers").asInt());
            }
            Poll.until("no viewer", () -> viewersOf(path), n -> n == 0);
        }
    }

    private static int viewersOf(String path) {
        try {
            return admin("GET", path).body().get("viewers").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anUnknownSessionIs404() throws Exception {
        for (String method : List.of("GET", "DELETE")) {
            Answer answer = admin(method, "/admin/sessions/no-such-session");
            assertEquals(404, answer.status());
            assertEquals("not_found", answer.body().get("error").asText());
        }
    }

    @Test
    void endingASessionTellsItsClientAndLeavesATombstone() throws Exception {
        for (String how : List.of("DELETE", "POST")) {
            try (SessionClient client = openIdle(gateway.token("end-me"))) {
                String id = client.sessionId();
                Answer ended = how.equals("DELETE")
                        ? admin("DELETE", "/admin/sessions/" + id)
                        : admin("POST", "/admin/sessions/" + id + "/end");
                assertEquals(202, ended.status(), ended.raw());
                assertEquals(id, ended.body().get("id").asText());

                List<ServerMessage> last = client.untilTag("status:ended:ended_by_operator");
                assertEquals(List.of("notice:ended_by_operator", "status:ended:ended_by_operator"), historyTags(last));
                assertEquals(4011, client.ws.awaitCloseCode());

                ServerMessage.ErrorFrame expired = SessionClient.resumeEnded(gateway, "end-me", id);
                assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
                assertEquals("ended_by_operator", expired.reason());
                assertEquals(404, admin("GET", "/admin/sessions/" + id).status(), "no longer live");
            }
        }
    }

    @Test
    void thePoolOfAnEchoGatewayIsNone() throws Exception {
        Answer pool = admin("GET", "/admin/pool");
        assertEquals(200, pool.status());
        assertEquals("echo", pool.body().get("kind").asText());
        assertTrue(pool.body().get("pool").isNull());
    }

    @Test
    void unknownPathsAre404AndWrongMethods405() throws Exception {
        Answer unknown = admin("GET", "/admin/nothing-here");
        assertEquals(404, unknown.status());
        assertEquals("not_found", unknown.body().get("error").asText());

        Answer wrong = admin("PUT", "/admin/sessions");
        assertEquals(405, wrong.status());
        assertEquals("method_not_allowed", wrong.body().get("error").asText());
        assertEquals("GET, HEAD", wrong.response().headers().firstValue("allow").orElse(""));

        Answer drainByGet = admin("GET", "/admin/drain");
        assertEquals(405, drainByGet.status(), "a drain is never started by a GET");
    }

    @Test
    void theAdminListenerIsNotTheWebSocketListener() {
        assertNotEquals(gateway.address().getPort(), gateway.adminAddress().getPort());
        assertTrue(gateway.adminAddress().getAddress().isLoopbackAddress());
    }
}
