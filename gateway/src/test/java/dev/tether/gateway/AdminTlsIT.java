package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.TestClient;
import dev.tether.gateway.testing.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin listener with {@code admin.tls.client_auth: require}: a client must present a
 * certificate signed by {@code admin.tls.client_ca_file} before its request is even read (the admin
 * token is still required after that); one without a certificate, or with one from another CA, or
 * over plain HTTP, gets no answer.
 */
class AdminTlsIT {

    private static final Path DIR = tempDir();
    private static final TestPki PKI = TestPki.create(DIR.resolve("admins"));
    private static final TestPki.Leaf SERVER = PKI.leaf("server");
    private static final TestPki.Leaf OPERATOR = PKI.leaf("operator");

    @RegisterExtension
    static final GatewayExtension gateway =
            GatewayExtension.withConfig(() -> """
            server:
              tls:
                enabled: true
                cert_chain_file: %s
                private_key_file: %s
            admin:
              tls:
                enabled: true
                client_auth: require
                client_ca_file: %s
            """.formatted(SERVER.chainFile(), SERVER.keyFile(), PKI.caFile()));

    @Test
    void aClientWithACertificateOfTheConfiguredCaIsServed() throws Exception {
        HttpResponse<String> answer = get(PKI.clientContext(OPERATOR), adminToken());
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(401, get(PKI.clientContext(OPERATOR), null).statusCode(), "the admin token is still required");
    }

    @Test
    void aClientWithoutACertificateIsRefused() {
        assertThrows(IOException.class, () -> get(PKI.clientContext(), adminToken()));
    }

    @Test
    void aClientWithACertificateOfAnotherCaIsRefused() throws IOException {
        TestPki stranger = TestPki.create(Files.createDirectories(DIR.resolve("strangers")));
        // It trusts the gateway's CA (so the refusal is the gateway's), and presents a certificate of its own CA.
        SSLContext context = PKI.clientContext(stranger.leaf("intruder"));
        assertThrows(IOException.class, () -> get(context, adminToken()));
    }

    @Test
    void plainHttpIsNotAnswered() {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(TestClient.TIMEOUT).build();
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.adminAddress().getPort() + "/admin/sessions"))
                .timeout(TestClient.TIMEOUT)
                .build();
        assertThrows(IOException.class, () -> http.send(request, HttpResponse.BodyHandlers.ofString()));
    }

    private static HttpResponse<String> get(SSLContext context, String token) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(context)
                .connectTimeout(TestClient.TIMEOUT)
                .build();
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("https://localhost:" + gateway.adminAddress().getPort() + "/admin/sessions"))
                .timeout(TestClient.TIMEOUT);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String adminToken() {
        return gateway.minter().mint("ops", Duration.ofMinutes(10), Map.of("roles", List.of("admin")));
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("tether-admin-tls-");
            Files.createDirectories(dir.resolve("admins"));
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
