package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections are counted when they are accepted, not when a request arrives, tried from outside
 * with silent raw sockets: an address over {@code abuse.max_connections_per_address} is closed at
 * once; at {@code abuse.max_pending_handshakes} the oldest silent connection makes room, so a health
 * probe is still answered; the admin listener has a connection limit and request and idle timeouts;
 * and a gateway out of file descriptors logs it once, counts it and answers {@code /healthz} again.
 * The handshake timeouts here are far longer than the tests, so only the limits can close anything.
 */
class ConnectionLimitsIT {

    private static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    private static final String METRICS = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    private static final InetAddress OTHER_ADDRESS = address("127.0.0.2");

    @RegisterExtension
    static final GatewayExtension perAddress = GatewayExtension.withConfig("""
            server:
              handshake_timeout: 10m
            abuse:
              max_connections_per_address: 5
            """);

    @RegisterExtension
    static final GatewayExtension pendingLimit = GatewayExtension.withConfig("""
            server:
              handshake_timeout: 10m
            abuse:
              max_pending_handshakes: 4
            """);

    @RegisterExtension
    static final GatewayExtension adminLimit = GatewayExtension.withConfig("""
            admin:
              max_connections: 3
              request_timeout: 10m
              idle_timeout: 10m
            """);

    @RegisterExtension
    static final GatewayExtension adminTimeouts = GatewayExtension.withConfig("""
            admin:
              request_timeout: 1s
              idle_timeout: 1s
            """);

    @TempDir
    Path dir;

    @Test
    void anAddressOverItsLimitIsClosedAtAcceptWhileOthersAreServed() throws IOException {
        double before =
                MetricsIT.value(scrape(perAddress), "tether_connections_refused_total{reason=\"address_limit\"");
        List<RawHttp.Connection> held = silent(perAddress, 5);
        try (RawHttp.Connection sixth = RawHttp.Connection.open(perAddress.address())) {
            assertTrue(sixth.closedByPeer(), "the sixth connection from one address is closed");
            assertEquals(
                    200,
                    RawHttp.send(OTHER_ADDRESS, perAddress.address(), HEALTHZ).status(),
                    "another address is served");
            String scrape = scrapeFrom(perAddress, OTHER_ADDRESS);
            assertEquals(
                    before + 1, MetricsIT.value(scrape, "tether_connections_refused_total{reason=\"address_limit\""));
            // The five stay open, and the scrape's own; the healthz connection above is closed by
            // then, though its close may still be on its way on a loaded machine.
            Poll.until(
                    "the five held connections and the scrape's own are pending",
                    () -> MetricsIT.value(scrapeFrom(perAddress, OTHER_ADDRESS), "tether_connections_pending") == 6);
        } finally {
            closeAll(held);
        }
        Poll.until("the address's connections are given back", () -> {
            try {
                return RawHttp.send(perAddress.address(), HEALTHZ).status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void theOldestSilentConnectionMakesRoomAndAProbeIsAnswered() throws IOException {
        try (SessionClient upgraded = SessionClient.openIdle(pendingLimit, "pending-limit")) {
            List<RawHttp.Connection> held = silent(pendingLimit, 4);
            try {
                assertEquals(
                        200, RawHttp.send(pendingLimit.address(), HEALTHZ).status(), "a probe is served at the limit");
                assertTrue(held.get(0).closedByPeer(), "the oldest silent connection was closed to make room");
                assertTrue(MetricsIT.value(
                                scrape(pendingLimit), "tether_connections_refused_total{reason=\"pending_evicted\"")
                        >= 1);
                upgraded.roundTrip("still-here", "\"an upgraded connection is not pending\"");
            } finally {
                closeAll(held);
            }
        }
    }

    @Test
    void theAdminListenerHasAConnectionLimit() throws IOException {
        InetSocketAddress address = adminLimit.server().adminAddress().orElseThrow();
        double before = MetricsIT.value(scrape(adminLimit), "tether_connections_refused_total{reason=\"admin_limit\"");
        List<RawHttp.Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(keptAlive(address, "/admin/sessions", 401));
            }
            try (RawHttp.Connection fourth = RawHttp.Connection.open(address)) {
                assertTrue(fourth.closedByPeer());
            }
            assertEquals(
                    before + 1,
                    MetricsIT.value(scrape(adminLimit), "tether_connections_refused_total{reason=\"admin_limit\""));
        } finally {
            closeAll(held);
        }
    }

    @Test
    void aSilentAdminConnectionIsClosedAtTheRequestTimeout() throws IOException {
        try (RawHttp.Connection silent =
                RawHttp.Connection.open(adminTimeouts.server().adminAddress().orElseThrow())) {
            assertTrue(silent.closedByPeer(), "closed after admin.request_timeout");
        }
    }

    @Test
    void anIdleKeepAliveAdminConnectionIsClosedAtTheIdleTimeout() throws IOException {
        try (RawHttp.Connection connection =
                RawHttp.Connection.open(adminTimeouts.server().adminAddress().orElseThrow())) {
            connection.write("GET /admin/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(401, connection.read().status(), "answered, and kept alive");
            assertTrue(connection.closedByPeer(), "then closed after admin.idle_timeout without another request");
        }
        try (RawHttp.Connection trickle =
                RawHttp.Connection.open(adminTimeouts.server().adminAddress().orElseThrow())) {
            trickle.write("GET /admin/sessions HTTP/1.1\r\n");
            assertTrue(trickle.closedByPeer(), "a request that never completes is cut at admin.request_timeout");
        }
    }

    @Test
    void outOfFileDescriptorsIsLoggedOnceCountedAndHealthzStillAnswers() throws IOException {
        Path config = Files.writeString(dir.resolve("gateway.yaml"), """
                server: {handshake_timeout: 10m}
                worker: {kind: echo}
                admin: {enabled: false}
                abuse: {max_connections_per_address: 100000, max_pending_handshakes: 100000, connection_burst: 100000}
                """);
        try (GatewayProcess gateway = GatewayProcess.start(
                dir,
                Map.of("TETHER_JWT_SECRET", GatewayProcess.TEST_SECRET, "TETHER_PORT", "0"),
                List.of("prlimit", "--nofile=400:400"),
                "--config",
                config.toString())) {
            InetSocketAddress address =
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.awaitListening());
            assertEquals(200, RawHttp.send(address, HEALTHZ).status());
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 700; i++) {
                    flood.add(new Socket(address.getAddress(), address.getPort()));
                }
                gateway.awaitLogged("cannot accept connections");
                RawHttp.Response health =
                        Poll.present("/healthz answered", GatewayProcess.DEADLINE, () -> answer(address, HEALTHZ));
                assertEquals(200, health.status());
            } finally {
                for (Socket socket : flood) {
                    socket.close();
                }
            }
            String metrics = Poll.present("/metrics answered", GatewayProcess.DEADLINE, () -> answer(address, METRICS))
                    .body();
            assertTrue(MetricsIT.value(metrics, "tether_accept_failures_total") >= 1, metrics);
            assertTrue(
                    MetricsIT.value(metrics, "tether_connections_refused_total{reason=\"fd_exhausted\"") >= 1, metrics);
            assertEquals(
                    1,
                    Pattern.compile("cannot accept connections")
                            .matcher(gateway.log())
                            .results()
                            .count(),
                    "logged once per burst:\n" + gateway.log());
            gateway.signal("TERM");
            assertEquals(0, gateway.awaitExit(), gateway::log);
        }
    }

    // ---- helpers ----

    /**
     * {@code count} connections to {@code target} that stay open without upgrading, opened one after
     * the other: each asks for {@code /healthz} on a keep-alive connection and gets its answer, which
     * proves the gateway has accepted and counted it before the next one is opened, then says nothing.
     */
    private static List<RawHttp.Connection> silent(GatewayExtension target, int count) throws IOException {
        List<RawHttp.Connection> connections = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            connections.add(keptAlive(target.address(), "/healthz", 200));
        }
        return connections;
    }

    /** A connection that asked for {@code path}, got {@code status}, and stays open. */
    private static RawHttp.Connection keptAlive(InetSocketAddress address, String path, int status) throws IOException {
        RawHttp.Connection connection = RawHttp.Connection.open(address);
        connection.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertEquals(status, connection.read().status());
        return connection;
    }

    private static void closeAll(List<RawHttp.Connection> connections) throws IOException {
        for (RawHttp.Connection connection : connections) {
            connection.close();
        }
    }

    private static String scrape(GatewayExtension target) {
        return scrapeFrom(target, null);
    }

    private static String scrapeFrom(GatewayExtension target, InetAddress from) {
        try {
            return RawHttp.send(from, target.address(), METRICS).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The answer to {@code request}, or none while the gateway cannot take the connection. */
    private static Optional<RawHttp.Response> answer(InetSocketAddress address, String request) {
        try {
            return Optional.of(RawHttp.send(address, request));
        } catch (IOException notYet) {
            return Optional.empty();
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
