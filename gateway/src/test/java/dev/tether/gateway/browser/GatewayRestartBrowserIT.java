package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.DemoWorkers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway drained and replaced by a new one on the same port, seen from the demo page in headless
 * Chromium: the page reconnects by itself, learns that its session is gone (close 4004, the new
 * gateway never knew it), starts a new session with a notice, and works on.
 */
class GatewayRestartBrowserIT {

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void pageReconnectsToTheRestartedGatewayAndStartsANewSession() throws Exception {
        GatewayConfig config =
                ConfigLoader.parse(DemoWorkers.config("browser-restart", """
                server:
                  port: %d
                web:
                  demo_page: true
                  dev_tokens: true
                drain:
                  timeout: 5s
                  retry_after: 1s
                pool:
                  min_idle: 1
                  max_workers: 4
                """.formatted(freePort())), Map.of());
        URI base = URI.create("http://127.0.0.1:" + config.server().port() + "/");

        GatewayServer first = new GatewayServer(config, Clock.systemUTC());
        GatewayServer second = null;
        try {
            first.start();
            DemoPage page = DemoPage.open(browser, base, "sub=browser-restart");
            String oldSession = page.sessionId();
            page.sendAndAwait("before the restart");
            page.screenshot("01-before-drain");

            first.drain("browser test").toCompletableFuture().get(30, TimeUnit.SECONDS);
            page.await(() -> "the page noticed the drain", d -> page.states().contains("reconnecting"));
            page.screenshot("02-drained");

            second = new GatewayServer(config, Clock.systemUTC());
            second.start();
            page.await(
                    () -> "a new session on the restarted gateway, with a 4004 notice",
                    d -> "open".equals(page.state())
                            && page.noticeCount("4004") > 0
                            && !page.sessionId().isEmpty()
                            && !oldSession.equals(page.sessionId()));
            page.screenshot("03-new-session");
            assertNotEquals(oldSession, page.clientSessionId());
            assertTrue(page.connections() >= 2, "connections: " + page.connections());

            String after = page.sendAndAwait("after the restart");
            page.screenshot("04-after-restart");
            assertEquals("after the restart", page.reply(after));
            assertEquals(1, page.workerEvents(after, "result"));
            assertEquals(1, page.turnCount(after));
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    /** A port free now on loopback; the gateways bind it with SO_REUSEADDR one after the other. */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
