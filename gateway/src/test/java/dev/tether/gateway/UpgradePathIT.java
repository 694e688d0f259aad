package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which requests are upgrades, tried from outside on raw sockets: another spelling of
 * {@code server.path} is 404 and closed (never a connection that holds a session slot and no limit
 * ends), and a second request on a keep-alive connection is judged on its own or not at all, never
 * upgraded on the first one's credentials.
 *
 * <p>Each subject may hold one session, so a slot that a refused upgrade kept would show as the
 * subject's next honest upgrade being refused.
 */
class UpgradePathIT {

    private static final String ORIGIN = "https://app.example.com";

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            server:
              allowed_origins: ["https://app.example.com"]
            sessions:
              max_sessions_per_user: 1
            """);

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/%77s",
                "/w%73",
                "/ws#x",
                "/ws%23x",
                "/ws/",
                "//ws",
                "/WS",
                "/ws;x",
                "/./ws",
                "/ws/..",
                "/ws%3Fsession=x",
                "http://127.0.0.1/ws"
            })
    void anotherSpellingOfThePathIsNotFoundAndClosed(String target) throws IOException {
        String subject = "spelling-" + Integer.toHexString(target.hashCode());
        try (RawHttp.Connection connection = RawHttp.Connection.open(gateway.address())) {
            connection.write(RawHttp.upgradeRequest(
                    gateway.address(),
                    target,
                    Map.of("Authorization", "Bearer " + gateway.token(subject), "Origin", ORIGIN)));

            assertEquals(404, connection.read().status(), target);
            assertTrue(connection.closedByPeer(), target + ": the connection is closed after the refusal");
        }
        assertTheOnlySlotIsFree(subject);
    }

    @Test
    void aRequestBehindARefusedOneIsNeverUpgraded() throws IOException {
        try (RawHttp.Connection connection = RawHttp.Connection.open(gateway.address())) {
            // Pipelined: a token on a misspelt path, then the real path with no credentials and a foreign origin.
            connection.write(RawHttp.upgradeRequest(
                            gateway.address(),
                            "/%77s",
                            Map.of("Authorization", "Bearer " + gateway.token("rider"), "Origin", ORIGIN))
                    + RawHttp.upgradeRequest(gateway.address(), "/ws", Map.of("Origin", "https://evil.example")));

            assertEquals(404, connection.read().status());
            assertTrue(connection.closedByPeer(), "nothing after the refusal: no 101 for the second request");
        }
        assertTheOnlySlotIsFree("rider");
    }

    @Test
    void requestsOnAKeepAliveConnectionAreEachCheckedOnTheirOwn() throws IOException {
        try (RawHttp.Connection connection = RawHttp.Connection.open(gateway.address())) {
            connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, connection.read().status());

            connection.write(
                    RawHttp.upgradeRequest(gateway.address(), "/ws", Map.of("Origin", "https://evil.example")));
            assertEquals(403, connection.read().status(), "the upgrade is judged by itself, origin first");
            assertTrue(connection.closedByPeer());
        }
        try (RawHttp.Connection connection = RawHttp.Connection.open(gateway.address())) {
            connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, connection.read().status());

            connection.write(RawHttp.upgradeRequest(gateway.address(), "/ws", Map.of()));
            assertEquals(401, connection.read().status(), "and needs its own credentials");
            assertTrue(connection.closedByPeer());
        }
    }

    @Test
    void anHonestUpgradeAfterAProbeOnTheSameConnectionSucceeds() throws IOException {
        try (RawHttp.Connection connection = RawHttp.Connection.open(gateway.address())) {
            connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, connection.read().status());

            connection.write(RawHttp.upgradeRequest(
                    gateway.address(),
                    "/ws?last_seq=0",
                    Map.of("Authorization", "Bearer " + gateway.token("probe-then-upgrade"), "Origin", ORIGIN)));
            assertEquals(101, connection.read().status());
        }
    }

    /** {@code subject} can still open its one session: no refused upgrade kept a slot. */
    private static void assertTheOnlySlotIsFree(String subject) throws IOException {
        RawHttp.Response honest = RawHttp.upgrade(
                gateway.address(),
                "/ws",
                Map.of("Authorization", "Bearer " + gateway.token(subject), "Origin", ORIGIN));
        assertEquals(101, honest.status(), subject + "'s one session slot is free: " + honest);
    }
}
