package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo page over {@code https://} in headless Chromium, its client on {@code wss://}, against a
 * gateway serving a certificate of a CA made for the test ({@code server.tls}). Chromium trusts
 * that one certificate by its public key ({@code --ignore-certificate-errors-spki-list}, the
 * standard way for a test certificate), and nothing else: a page or socket served any other
 * certificate would fail to load.
 */
class TlsBrowserIT {

    private static final TestPki PKI = TestPki.create(tempDir());
    private static final TestPki.Leaf LEAF = PKI.leaf("localhost");

    @RegisterExtension
    static final GatewayExtension gateway =
            DemoPage.gateway("browser-tls", """
            server:
              tls:
                enabled: true
                cert_chain_file: %s
                private_key_file: %s
            """.formatted(LEAF.chainFile(), LEAF.keyFile()));

    @RegisterExtension
    static final BrowserExtension browser =
            new BrowserExtension(List.of("--ignore-certificate-errors-spki-list=" + LEAF.spkiSha256()));

    @Test
    void theDemoPageOverHttpsStreamsOverWss() {
        DemoPage page = DemoPage.open(
                browser, URI.create("https://localhost:" + gateway.address().getPort() + "/"), "sub=browser-tls");
        page.screenshot("01-open");
        assertEquals("https:", page.script("return location.protocol;"));
        String url = (String) page.script("return window.tetherDemo.client._url;");
        assertTrue(url.startsWith("wss://localhost:" + gateway.address().getPort() + "/"), url);

        String id = page.send("{\"text\":\"sealed in transit\",\"deltas\":3,\"delay_ms\":20}");
        page.awaitDone(id);
        page.screenshot("02-reply-done");
        assertEquals("sealed in transit", page.reply(id));
        page.assertSeqsContiguous();
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("tether-browser-tls-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
