package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.URI;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo page in headless Chromium against a gateway with {@code server.compression} on: Chromium
 * offers permessage-deflate by itself, the gateway negotiates it (counted in
 * {@code tether_connections_compressed_total}), and a session whose replies are well over the
 * threshold streams, drops and resumes as without compression.
 */
class CompressionBrowserIT {

    /** Two hundred words: deltas and a result far above the 64-byte threshold. */
    private static final String TEXT =
            IntStream.rangeClosed(1, 200).mapToObj(i -> "word" + i).collect(Collectors.joining(" "));

    @RegisterExtension
    static final GatewayExtension gateway = DemoPage.gateway("browser-deflate", """
            server:
              compression:
                enabled: true
                threshold: 64
            """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void aCompressedSessionStreamsDropsAndResumes() throws IOException {
        double before = compressedConnections();
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-deflate");
        String session = page.sessionId();
        assertEquals(before + 1, compressedConnections(), "Chromium's connection negotiated permessage-deflate");

        String id = page.send("{\"text\":\"" + TEXT + "\",\"deltas\":8,\"delay_ms\":10}");
        page.awaitDone(id);
        assertEquals(TEXT, page.reply(id));
        assertEquals(8, page.workerEvents(id, "delta"));

        page.click("drop");
        Poll.until("the page reconnected", () -> page.connections() >= 2 && "open".equals(page.state()));
        String again = page.send("{\"text\":\"" + TEXT + " again\",\"deltas\":4,\"delay_ms\":10}");
        page.awaitDone(again);
        assertEquals(TEXT + " again", page.reply(again));
        assertEquals(session, page.sessionId(), "the same session, resumed");
        page.assertSeqsContiguous();
        assertTrue(compressedConnections() >= before + 2, "the resumed connection is compressed too");
        page.screenshot("01-done");
    }

    private static double compressedConnections() throws IOException {
        String metrics = RawHttp.send(
                        gateway.address(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .body();
        double sum = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("tether_connections_compressed_total ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static URI base() {
        return URI.create("http://127.0.0.1:" + gateway.address().getPort() + "/");
    }
}
