package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.gateway.worker.process.ProcessWorker;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client ends its session on purpose with {@code end} (contract 1.2, section 8.7), against real
 * demo-worker subprocesses: the session ends with {@code client_end}, the connection closes with
 * 1000, the worker process and its working directory are gone, and a later resume is told why.
 * Closing the WebSocket without {@code end} still only detaches.
 */
class EndIT {

    private static final String MARKER = "end";

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway(MARKER, "");

    @Test
    void endOfAnIdleSessionStopsItsWorkerAndClosesWith1000() {
        String sessionId;
        long pid;
        Path dir;
        try (SessionClient c = SessionClient.openIdle(gateway, "end-idle")) {
            sessionId = c.sessionId();
            c.roundTrip("m1", "{\"text\":\"hi\",\"deltas\":1,\"delay_ms\":0}");
            pid = SupervisionIT.workerPid(gateway, sessionId);
            dir = workDir(sessionId);

            c.ws.send(new ClientMessage.End());

            assertEquals(List.of("status:ended:client_end"), historyTags(c.untilTag("status:ended:client_end")));
            assertEquals(1000, c.ws.awaitCloseCode());
        }
        assertWorkerGone(pid, dir);
        ServerMessage.ErrorFrame expired = SessionClient.resumeEnded(gateway, "end-idle", sessionId);
        assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
        assertEquals("client_end", expired.reason());
    }

    @Test
    void endDuringATurnInterruptsItAndStopsTheWorker() {
        String sessionId;
        long pid;
        Path dir;
        try (SessionClient c = SessionClient.openIdle(gateway, "end-busy")) {
            sessionId = c.sessionId();
            pid = SupervisionIT.workerPid(gateway, sessionId);
            dir = workDir(sessionId);
            c.sendAccepted("long", "{\"text\":\"x\",\"deltas\":1,\"hang\":true}", 0);
            c.untilTag("event:delta:long");

            c.ws.send(new ClientMessage.End());

            assertEquals(List.of("status:ended:client_end"), historyTags(c.untilTag("status:ended:client_end")));
            assertEquals(1000, c.ws.awaitCloseCode());
        }
        assertWorkerGone(pid, dir);
        assertEquals(
                "client_end",
                SessionClient.resumeEnded(gateway, "end-busy", sessionId).reason());
    }

    @Test
    void closingWithoutEndOnlyDetaches() {
        String sessionId;
        try (SessionClient c = SessionClient.openIdle(gateway, "end-detach")) {
            sessionId = c.sessionId();
        }
        try (SessionClient again = SessionClient.resume(gateway, "end-detach", sessionId, 0)) {
            assertTrue(again.ready.resumed());
        }
    }

    /** The working directory of the worker serving {@code sessionId} now. */
    private static Path workDir(String sessionId) {
        Session session = gateway.server().registry().get(sessionId).orElseThrow();
        return ((ProcessWorker) session.currentWorker()).workDir();
    }

    private static void assertWorkerGone(long pid, Path workDir) {
        Poll.until("worker " + pid + " of the ended session is gone", () -> !ProcessTree.running(pid));
        Poll.until("working directory " + workDir + " is removed", () -> !Files.exists(workDir));
    }
}
