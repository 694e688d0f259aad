package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestPki;
import dev.tether.gateway.tls.CertificateReloader;
import dev.tether.gateway.tls.ServedCertificate;
import dev.tether.testkit.Poll;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContext;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.glassfish.tyrus.client.ClientManager;
import org.glassfish.tyrus.client.ClientProperties;
import org.glassfish.tyrus.client.SslEngineConfigurator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS in the gateway ({@code server.tls}), with both providers, against certificates made for the
 * test by a CA of its own ({@link TestPki}): a session over {@code wss://} with an independent
 * client (Tyrus) that trusts only that CA and checks the host name, {@code /healthz} over
 * {@code https://}; a certificate renewed on disk while a connection stays open (the open one keeps
 * working, new ones are served the new certificate); renewals that must not be served (expired, not
 * yet valid, a key of another certificate, garbage) refused with the reason logged while the
 * certificate in force stays; and a start-up with a bad file failing with the key named.
 */
class TlsIT {

    @TempDir
    static Path pkiDir;

    static TestPki pki;
    static TestPki.Leaf first;
    static TestPki.Leaf second;
    static TestPki.Leaf expired;
    static TestPki.Leaf notYetValid;

    @TempDir
    Path served;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(pkiDir);
        first = pki.leaf("first");
        second = pki.leaf("second");
        expired = pki.leaf("expired", "-10d", 2);
        notYetValid = pki.leaf("later", "+10d", 30);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aSessionOverWssAndHealthzOverHttps(String provider) throws Exception {
        if (provider.equals("openssl")) {
            assertTrue(
                    OpenSsl.isAvailable(),
                    () -> "netty-tcnative must load on this machine: " + OpenSsl.unavailabilityCause());
        }
        try (LogCapture log = LogCapture.of(CertificateReloader.class.getName());
                GatewayServer gateway = start(provider, first, "1d")) {
            SslContext context = gateway.tls().orElseThrow().current().context();
            Class<?> expected = provider.equals("openssl") ? OpenSslContext.class : JdkSslContext.class;
            assertTrue(expected.isInstance(context), () -> "a " + expected.getSimpleName() + ": " + context);
            assertTrue(
                    log.rendered().stream()
                            .anyMatch(line -> line.contains(provider.equals("openssl") ? "OpenSSL (" : "JDK (")
                                    && line.contains(first.sha256())
                                    && line.contains("CN=first")),
                    () -> log.rendered().toString());

            InetSocketAddress address = gateway.start();
            try (SessionClient client = SessionClient.open(tyrus(), wss(address), token("tls-" + provider))) {
                client.roundTrip("m1", "{\"text\":\"over tls\"}");
            }
            HttpResponse<String> health = HttpClient.newBuilder()
                    .sslContext(pki.clientContext())
                    .build()
                    .send(
                            HttpRequest.newBuilder(URI.create("https://localhost:" + address.getPort() + "/healthz"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            assertEquals(first.sha256(), servedFingerprint(address));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aRenewedCertificateIsServedToNewConnectionsWhileOpenOnesStay(String provider) throws Exception {
        try (GatewayServer gateway = start(provider, first, "1s")) {
            InetSocketAddress address = gateway.start();
            try (SessionClient open = SessionClient.open(tyrus(), wss(address), token("renewal-" + provider))) {
                open.roundTrip("before", "{\"text\":\"before the renewal\"}");

                TestPki.install(second.chainFile(), second.keyFile(), chainFile(), keyFile());
                Poll.until(
                        "the renewed certificate served, within a few reload intervals (1 s)",
                        () -> second.sha256().equals(servedFingerprint(address)));

                open.roundTrip("after", "{\"text\":\"after the renewal, same connection\"}");
                try (SessionClient fresh = SessionClient.open(tyrus(), wss(address), token("renewal-2-" + provider))) {
                    fresh.roundTrip("new", "{\"text\":\"a new connection\"}");
                }
            }
            assertEquals(second.sha256(), gateway.tls().orElseThrow().current().sha256());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aBadRenewalKeepsTheCertificateInForceAndSaysWhy(String provider) throws Exception {
        try (LogCapture log = LogCapture.of(CertificateReloader.class.getName());
                GatewayServer gateway = start(provider, first, "1d")) {
            InetSocketAddress address = gateway.start();
            CertificateReloader tls = gateway.tls().orElseThrow();

            TestPki.install(expired.chainFile(), expired.keyFile(), chainFile(), keyFile());
            assertRefused(tls, log, "expired at");
            TestPki.install(notYetValid.chainFile(), notYetValid.keyFile(), chainFile(), keyFile());
            assertRefused(tls, log, "is not valid before");
            TestPki.install(second.chainFile(), first.keyFile(), chainFile(), keyFile());
            assertRefused(tls, log, "the private key does not belong to the first certificate");
            Files.writeString(
                    chainFile(), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
            assertRefused(tls, log, "not a valid PEM certificate");
            Files.writeString(keyFile(), "not a key at all");
            Files.copy(second.chainFile(), chainFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertRefused(tls, log, "no -----BEGIN PRIVATE KEY----- block");

            assertEquals(first.sha256(), servedFingerprint(address), "the certificate in force is still served");
            try (SessionClient client = SessionClient.open(tyrus(), wss(address), token("kept-" + provider))) {
                client.roundTrip("m1", "{\"text\":\"still served\"}");
            }
            String keyBody = Files.readString(first.keyFile())
                    .lines()
                    .skip(1)
                    .findFirst()
                    .orElseThrow();
            for (String line : log.rendered()) {
                assertFalse(line.contains(keyBody), () -> "key material logged: " + line);
            }
            // A good renewal after the bad ones is taken.
            TestPki.install(second.chainFile(), second.keyFile(), chainFile(), keyFile());
            assertTrue(tls.checkNow());
            assertEquals(second.sha256(), servedFingerprint(address));
        }
    }

    @Test
    void aStartUpWithABadFileFailsNamingTheKey() throws IOException {
        TestPki.install(second.chainFile(), first.keyFile(), chainFile(), keyFile());
        ConfigException mismatched = assertThrows(
                ConfigException.class, () -> start("jdk", null, "1d").close());
        assertEquals("server.tls.private_key_file", mismatched.key(), mismatched.getMessage());
        assertTrue(mismatched.getMessage().contains("does not belong"), mismatched.getMessage());

        TestPki.install(expired.chainFile(), expired.keyFile(), chainFile(), keyFile());
        ConfigException old = assertThrows(
                ConfigException.class, () -> start("jdk", null, "1d").close());
        assertEquals("server.tls.cert_chain_file", old.key(), old.getMessage());
        assertTrue(old.getMessage().contains("expired at"), old.getMessage());

        Files.delete(chainFile());
        ConfigException missing = assertThrows(
                ConfigException.class, () -> start("jdk", null, "1d").close());
        assertEquals("server.tls.cert_chain_file", missing.key(), missing.getMessage());
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }

    private static void assertRefused(CertificateReloader tls, LogCapture log, String reason)
            throws InterruptedException {
        ServedCertificate before = tls.current();
        assertFalse(tls.checkNow(), "a bad renewal is not put in force");
        assertEquals(before, tls.current());
        log.await(event -> event.getLevel().toString().equals("WARN")
                && event.getFormattedMessage().contains(reason)
                && event.getFormattedMessage().contains("still serving")
                && event.getFormattedMessage().contains(first.sha256()));
    }

    /** A gateway serving {@code leaf} (installed as this test's files; null: the files already there), not yet started. */
    private GatewayServer start(String provider, TestPki.Leaf leaf, String reloadInterval) {
        if (leaf != null) {
            TestPki.install(leaf.chainFile(), leaf.keyFile(), chainFile(), keyFile());
        }
        GatewayConfig config = GatewayExtension.config("""
                server:
                  tls:
                    enabled: true
                    cert_chain_file: %s
                    private_key_file: %s
                    provider: %s
                    reload_interval: %s
                """.formatted(chainFile(), keyFile(), provider, reloadInterval));
        return new GatewayServer(config, Clock.systemUTC());
    }

    private Path chainFile() {
        return served.resolve("chain.pem");
    }

    private Path keyFile() {
        return served.resolve("key.pem");
    }

    private static URI wss(InetSocketAddress address) {
        return URI.create("wss://localhost:" + address.getPort() + "/ws");
    }

    private static String token(String subject) {
        return new TokenMinter(AuthConfig.DEV_HMAC_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofMinutes(10), Map.of());
    }

    /** A Tyrus client that trusts the test CA only and checks the host name. */
    private static ClientManager tyrus() {
        ClientManager client = ClientManager.createClient();
        SslEngineConfigurator ssl = new SslEngineConfigurator(pki.clientContext(), true, false, false);
        ssl.setHostVerificationEnabled(true);
        client.getProperties().put(ClientProperties.SSL_ENGINE_CONFIGURATOR, ssl);
        return client;
    }

    /** The fingerprint of the certificate a new connection is served now. */
    static String servedFingerprint(InetSocketAddress address) {
        SSLContext context = pki.clientContext();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return TestPki.fingerprint((X509Certificate) socket.getSession().getPeerCertificates()[0]);
        } catch (IOException e) {
            throw new AssertionError("TLS handshake with " + address + " failed", e);
        }
    }
}
