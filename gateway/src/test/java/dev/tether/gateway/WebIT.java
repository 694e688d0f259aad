package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ServerMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The browser-facing routes on a real gateway with the development setup ({@code web.demo_page} and
 * {@code web.dev_tokens} on, development secret): the client library, the demo page and its assets,
 * and {@code /dev/token}, whose tokens open sessions. Also: the gateway refuses to start with dev
 * tokens on and a real secret.
 */
class WebIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            web:
              demo_page: true
              dev_tokens: true
              dev_token_max_ttl: 10m
            """);

    @Test
    void clientLibraryIsServedAsJavaScriptAndRevalidated() throws IOException {
        RawHttp.Response response = get("/client/tether-client.js", "");
        assertEquals(200, response.status());
        assertEquals("text/javascript; charset=utf-8", response.header("content-type"));
        assertEquals("no-cache", response.header("cache-control"));
        assertEquals("nosniff", response.header("x-content-type-options"));
        assertTrue(response.body().contains("export class TetherClient extends EventTarget"));
        String etag = response.header("etag");
        assertNotNull(etag);
        assertTrue(etag.matches("\"[0-9a-f]{32}\""), etag);

        RawHttp.Response again = get("/client/tether-client.js", "If-None-Match: " + etag + "\r\n");
        assertEquals(304, again.status());
        assertEquals("", again.body());
        assertEquals(etag, again.header("etag"));
        assertEquals(
                200,
                get("/client/tether-client.js", "If-None-Match: \"other\"\r\n").status());
    }

    @Test
    void demoPageAndItsAssetsAreServed() throws IOException {
        RawHttp.Response page = get("/", "");
        assertEquals(200, page.status());
        assertEquals("text/html; charset=utf-8", page.header("content-type"));
        assertTrue(page.header("content-security-policy").contains("default-src 'self'"));
        assertTrue(page.body().contains("src=\"/demo.js\""));
        assertTrue(page.body().contains("id=\"conn-state\""));
        RawHttp.Response script = get("/demo.js", "");
        assertEquals(200, script.status());
        assertEquals("text/javascript; charset=utf-8", script.header("content-type"));
        assertTrue(script.body().contains("from '/client/tether-client.js'"));
        RawHttp.Response css = get("/demo.css", "");
        assertEquals(200, css.status());
        assertEquals("text/css; charset=utf-8", css.header("content-type"));
    }

    @Test
    void devTokenHasTheAskedSubjectAndTtlAndOpensASession() throws Exception {
        long before = Instant.now().getEpochSecond();
        RawHttp.Response response = get("/dev/token?sub=alice.dev-1&ttl=20s", "");
        long after = Instant.now().getEpochSecond();
        assertEquals(200, response.status());
        assertEquals("application/json", response.header("content-type"));
        assertEquals("no-store", response.header("cache-control"));
        JsonNode body = JSON.readTree(response.body());
        assertEquals("alice.dev-1", body.path("sub").asText());
        String token = body.path("token").asText();
        JsonNode claims = claims(token);
        assertEquals("alice.dev-1", claims.path("sub").asText());
        assertEquals(20, claims.path("exp").asLong() - claims.path("iat").asLong());
        assertEquals(claims.path("exp").asLong(), body.path("expires_at").asLong());
        assertTrue(body.path("expires_at").asLong() >= before + 20
                && body.path("expires_at").asLong() <= after + 20);

        try (TestClient client = TestClient.connect(gateway.uri(), token)) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed());
            assertEquals(claims.path("exp").asLong(), ready.tokenExpiresAt());
        }
    }

    @Test
    void devTokenWithoutParametersIsForARandomDemoUserForAnHour() throws IOException {
        JsonNode first = JSON.readTree(get("/dev/token", "").body());
        JsonNode second = JSON.readTree(get("/dev/token", "").body());
        assertTrue(first.path("sub").asText().matches("demo-[a-z0-9]{6}"), first.toString());
        assertNotEquals(first.path("sub").asText(), second.path("sub").asText());
        JsonNode claims = claims(first.path("token").asText());
        assertEquals(
                600,
                claims.path("exp").asLong() - claims.path("iat").asLong(),
                "the default hour, capped at web.dev_token_max_ttl (10m here)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "sub=",
                "sub=has%20space",
                "sub=%C3%A9",
                "sub=" + "x65xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "ttl=4s",
                "ttl=11m",
                "ttl=abc",
                "ttl=-5s",
                "ttl=10"
            })
    void badInputIsA400WithAJsonError(String query) throws IOException {
        RawHttp.Response response = get("/dev/token?" + query, "");
        assertEquals(400, response.status(), response.body());
        assertEquals("application/json", response.header("content-type"));
        JsonNode body = JSON.readTree(response.body());
        assertEquals("invalid_request", body.path("error").asText());
        assertTrue(body.path("message").asText().startsWith(query.substring(0, 3) + ":"), body.toString());
        assertFalse(response.body().contains("token\""));
    }

    @Test
    void theTokenIsNeverLogged() throws IOException {
        try (LogCapture logs = LogCapture.everything()) {
            String token = JSON.readTree(get("/dev/token?sub=bob", "").body())
                    .path("token")
                    .asText();
            String signature = token.substring(token.lastIndexOf('.') + 1);
            assertTrue(
                    logs.rendered().stream().noneMatch(line -> line.contains(signature)),
                    String.join("\n", logs.rendered()));
        }
    }

    @Test
    void devTokensWithARealSecretRefuseToStart() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.tether.gateway.Main",
                        "--config",
                        Path.of("..", "config", "gateway.yaml").toString())
                .redirectErrorStream(true);
        builder.environment().put("TETHER_JWT_SECRET", "a-real-secret-from-the-environment-0123456789");
        builder.environment().put("TETHER_PORT", "0");
        Process process = builder.start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                fail("the gateway started with web.dev_tokens and a real secret");
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, process.exitValue(), output);
            assertTrue(output.contains("invalid configuration: web.dev_tokens: true"), output);
            assertFalse(output.contains("a-real-secret-from-the-environment"), output);
        } finally {
            process.destroyForcibly().waitFor();
        }
    }

    private static JsonNode claims(String token) throws IOException {
        String[] parts = token.split("\\.", -1);
        assertEquals(3, parts.length, token);
        return JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    }

    static RawHttp.Response get(String target, String extraHeaders) throws IOException {
        return RawHttp.send(
                gateway.address(),
                "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Connection: close\r\n" + extraHeaders + "\r\n");
    }
}
