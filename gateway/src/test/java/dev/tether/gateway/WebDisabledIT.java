package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The production setup of the {@code web} section (demo page and dev tokens off, a real secret):
 * only the client library is served; the demo's paths and {@code /dev/token} are 404 like any
 * unknown path.
 */
class WebDisabledIT {

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            auth:
              hmac_secret: a-real-secret-not-the-development-one-0123456789
            web:
              demo_page: false
              dev_tokens: false
            """);

    @Test
    void clientLibraryIsStillServed() throws IOException {
        RawHttp.Response response = get("/client/tether-client.js");
        assertEquals(200, response.status());
        assertTrue(response.body().contains("export class TetherClient"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/demo.js", "/demo.css", "/dev/token", "/dev/token?sub=alice&ttl=20s"})
    void demoAndDevTokensAreNotFound(String target) throws IOException {
        RawHttp.Response response = get(target);
        assertEquals(404, response.status(), response.body());
        assertTrue(response.body().contains("not_found"), response.body());
    }

    private static RawHttp.Response get(String target) throws IOException {
        return RawHttp.send(
                gateway.address(), "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    }
}
