package dev.tether.loadtest.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.websocket.DeploymentException;
import java.io.IOException;
import org.glassfish.tyrus.core.HandshakeException;
import org.junit.jupiter.api.Test;

/** How a refused upgrade is recognised in what Tyrus throws. */
class RefusalTest {

    @Test
    void theHttpStatusOfAHandshakeExceptionAnywhereInTheChainIsUsed() {
        DeploymentException thrown =
                new DeploymentException("Handshake error.", new HandshakeException(503, "at capacity"));
        Refusal refusal = Refusal.of(thrown);
        assertEquals(503, refusal.status());
        assertEquals("http_503", refusal.kind());
    }

    @Test
    void aStatusInTheMessageIsTheFallback() {
        assertEquals(
                401,
                Refusal.of(new DeploymentException("Handshake response not received: status 401"))
                        .status());
    }

    @Test
    void aConnectionThatFailedHasNoStatus() {
        Refusal refusal = Refusal.of(new IOException("Connection refused"));
        assertEquals(0, refusal.status());
        assertEquals("connect_failed", refusal.kind());
    }
}
