package dev.tether.gateway;

import static dev.tether.gateway.SupervisionIT.workerPid;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session time limits and worker output limits end to end, with real demo-worker subprocesses: the
 * maximum duration with its warning and grace, the idle and first-message timeouts, the teardown of
 * a worker that ignores shutdown and has a child, protocol errors, oversized lines, and stderr.
 */
class WorkerLimitsIT {

    /** Sessions live 3 s: a warning at 1.5 s, then 1 s of grace for a running turn. */
    @RegisterExtension
    static final GatewayExtension shortLived = DemoWorkers.gateway("short-lived", """
            limits:
              max_duration: 3s
              warning_ratio: 0.5
              duration_grace: 1s
            """);

    /** Idle sessions end after 1 s, sessions never used after 1.5 s; workers get 500 ms per stop step. */
    @RegisterExtension
    static final GatewayExtension impatient = DemoWorkers.gateway("impatient", """
            limits:
              idle_timeout: 1s
              first_message_timeout: 1500ms
            """);

    /** Worker output lines of at most 64 KiB. */
    @RegisterExtension
    static final GatewayExtension output = DemoWorkers.gateway("output", """
            worker:
              process:
                max_line_bytes: 64KiB
            """);

    // ---- time limits ----

    @Test
    void maxDurationWarnsThenGivesTheRunningTurnItsGraceThenEnds() {
        String subject = "duration";
        String sessionId;
        long pid;
        try (SessionClient c = SessionClient.openWarm(shortLived, subject)) {
            sessionId = c.sessionId();
            pid = workerPid(shortLived, sessionId);
            c.sendAccepted("forever", "{\"text\":\"x\",\"deltas\":1,\"hang\":true}", 0);
            assertEquals(
                    List.of("status:processing", "event:delta:forever", "notice:duration_warning"),
                    historyTags(c.untilTag("notice:duration_warning")));
            List<ServerMessage> limit = c.untilTag("notice:duration_limit");
            assertEquals(List.of("notice:duration_limit"), historyTags(limit));
            assertEquals(
                    1,
                    notice(limit, "duration_limit")
                            .details()
                            .path("grace_seconds")
                            .asInt());

            // Within the grace the session takes no new turn.
            c.send("late", "{\"text\":\"too late\"}");
            ServerMessage.ErrorFrame busy = c.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.SESSION_BUSY, busy.code());
            assertEquals("late", busy.id());

            assertEquals(
                    List.of("status:ended:duration_limit"), historyTags(c.untilTag("status:ended:duration_limit")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        Poll.until("worker " + pid + " of the ended session is gone", () -> !ProcessTree.running(pid));
        assertEquals(
                "duration_limit",
                SessionClient.resumeEnded(shortLived, subject, sessionId).reason());
    }

    @Test
    void aSessionNeverUsedEndsAfterTheFirstMessageTimeout() {
        String subject = "never-used";
        String sessionId;
        long pid;
        try (SessionClient c = SessionClient.openWarm(impatient, subject)) {
            sessionId = c.sessionId();
            pid = workerPid(impatient, sessionId);
            assertEquals(
                    List.of("status:ended:first_message_timeout"),
                    historyTags(c.untilTag("status:ended:first_message_timeout")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        Poll.until("worker " + pid + " of the ended session is gone", () -> !ProcessTree.running(pid));
        ServerMessage.ErrorFrame expired = SessionClient.resumeEnded(impatient, subject, sessionId);
        assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
        assertEquals("first_message_timeout", expired.reason());
    }

    @Test
    void aSessionUsedThenIdleEndsAfterTheIdleTimeout() {
        String subject = "used-then-idle";
        String sessionId;
        long pid;
        try (SessionClient c = SessionClient.openWarm(impatient, subject)) {
            sessionId = c.sessionId();
            pid = workerPid(impatient, sessionId);
            c.roundTrip("only", "{\"text\":\"once\",\"deltas\":1,\"delay_ms\":0}");
            assertEquals(List.of("status:ended:idle_timeout"), historyTags(c.untilTag("status:ended:idle_timeout")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        Poll.until("worker " + pid + " of the ended session is gone", () -> !ProcessTree.running(pid));
        assertEquals(
                "idle_timeout",
                SessionClient.resumeEnded(impatient, subject, sessionId).reason());
    }

    /**
     * A worker that ignores the shutdown line and SIGTERM and has a child: when its session ends,
     * SIGTERM and then SIGKILL take the whole tree, and its working directory is removed.
     */
    @Test
    void endingASessionTearsDownAStubbornWorkerWithItsChild() {
        long pid;
        long child;
        Path workDir;
        try (SessionClient c = SessionClient.openWarm(impatient, "stubborn")) {
            pid = workerPid(impatient, c.sessionId());
            List<ServerMessage> turn = c.roundTrip(
                    "arm",
                    "{\"whoami\":true,\"spawn_child\":true,\"ignore_shutdown\":true,\"deltas\":1,\"delay_ms\":0}");
            child = SessionClient.event(turn, "child").path("pid").asLong();
            workDir =
                    Path.of(SessionClient.event(turn, "whoami").path("work_dir").asText());
            assertTrue(ProcessTree.running(child), "child " + child + " runs");
            assertTrue(Files.isDirectory(workDir), workDir + " exists");
            assertTrue(workDir.startsWith(DemoWorkers.workRoot("impatient")), workDir::toString);
            assertEquals(List.of("status:ended:idle_timeout"), historyTags(c.untilTag("status:ended:idle_timeout")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        Poll.until(
                "worker " + pid + " and its child " + child + " are gone",
                () -> !ProcessTree.running(pid) && !ProcessTree.running(child));
        Poll.until("working directory " + workDir + " is removed", () -> !Files.exists(workDir));
        assertFalse(DemoWorkers.running("impatient").contains(pid));
    }

    // ---- worker output ----

    @Test
    void garbageLinesAreReportedAndTheSessionGoesOn() {
        try (SessionClient c = SessionClient.openIdle(output, "garbage")) {
            List<ServerMessage> turn =
                    c.roundTrip("g", "{\"garbage\":6,\"text\":\"fine\",\"deltas\":1,\"delay_ms\":0}");
            List<String> expected = new ArrayList<>();
            expected.add("status:processing");
            expected.addAll(Collections.nCopies(6, "notice:worker_protocol_error"));
            expected.addAll(List.of("event:delta:g", "event:result:g", "status:idle"));
            assertEquals(expected, historyTags(turn));
            c.roundTrip("after", "{\"text\":\"still here\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    @Test
    void aLineOverMaxLineBytesIsTruncatedAndTheNextMessageWorks() {
        try (SessionClient c = SessionClient.openIdle(output, "huge")) {
            long pid = workerPid(output, c.sessionId());
            List<ServerMessage> turn =
                    c.roundTrip("h", "{\"huge_line_bytes\":500000,\"text\":\"x\",\"deltas\":1,\"delay_ms\":0}");
            assertEquals(
                    List.of(
                            "status:processing",
                            "notice:output_truncated",
                            "event:delta:h",
                            "event:result:h",
                            "status:idle"),
                    historyTags(turn));
            c.roundTrip("after", "{\"text\":\"still here\",\"deltas\":1,\"delay_ms\":0}");
            assertEquals(pid, workerPid(output, c.sessionId()), "the same worker goes on");
        }
    }

    @Test
    void stderrLinesAreLoggedWithSessionSubjectAndWorkerAndNeverSentToTheClient() throws InterruptedException {
        String line = "diagnostics for humans " + System.nanoTime();
        try (LogCapture log = LogCapture.of("dev.tether.gateway.worker.process.StderrLogHandler");
                SessionClient c = SessionClient.openIdle(output, "stderr")) {
            long pid = workerPid(output, c.sessionId());
            List<ServerMessage> turn =
                    c.roundTrip("e", "{\"stderr\":\"%s\",\"text\":\"ok\",\"deltas\":1,\"delay_ms\":0}".formatted(line));
            ILoggingEvent logged = log.await(e -> e.getFormattedMessage().equals("stderr: " + line));
            assertTrue(LogCapture.hasKeyValue(logged, "session", c.sessionId()), logged::toString);
            assertTrue(LogCapture.hasKeyValue(logged, "subject", "stderr"), logged::toString);
            assertTrue(LogCapture.hasKeyValue(logged, "worker", pid), logged::toString);
            assertEquals(
                    List.of("status:processing", "event:delta:e", "event:result:e", "status:idle"), historyTags(turn));
            for (ServerMessage m : turn) {
                if (m instanceof ServerMessage.Event e) {
                    JsonNode event = e.event();
                    assertFalse(event.toString().contains(line), () -> "stderr reached the client: " + tags(turn));
                }
            }
        }
    }
}
