package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.Yaml;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Worker supervision end to end: real demo-worker subprocesses behind a real gateway, driven over
 * WebSocket. Each test checks what the client receives and what the operating system shows (which
 * worker processes run). Crashes and restarts, the restart limit, the RSS soft and hard limits, and
 * the interrupt of a detached session's turn. {@code SessionSupervisionTest} covers the same logic
 * with fake workers and virtual time.
 */
class SupervisionIT {

    private static final int RSS_LIMIT_MIB = 110;
    /** What the RSS tests allocate: over the limit from a baseline of about 50 MiB, under the worker's -Xmx128m old generation. */
    private static final int ALLOCATE_MIB = 75;

    /** At most 2 restarts per session; checkpoints of at most 1 KiB. */
    @RegisterExtension
    static final GatewayExtension crashy = DemoWorkers.gateway("crashy", """
            worker:
              process:
                max_checkpoint_bytes: 1KiB
            limits:
              max_restarts: 2
            """);

    /** The history of a turn whose worker crashed, up to the session idle again on a new worker. */
    private static final List<String> CRASHED_AND_RESTARTED = List.of(
            "status:processing",
            "notice:worker_crashed",
            "status:restarting:crash",
            "notice:worker_restarted",
            "status:idle");

    /** RSS sampled every 100 ms; soft limit far above a demo worker's baseline (about 50 MiB), hard limit out of reach. */
    private static final String SOFT_LIMIT = """
            limits:
              rss_poll_interval: 100ms
              rss_soft_limit: %dMiB
              rss_hard_limit: 1GiB
            """.formatted(RSS_LIMIT_MIB);

    /** A gateway with {@link #SOFT_LIMIT}. */
    @RegisterExtension
    static final GatewayExtension soft = DemoWorkers.gateway("rss-soft", SOFT_LIMIT);

    /**
     * Like {@link #soft}, with the hard limit where the soft one was, polled: the RSS sampler's hard
     * limit, the fallback where no control groups can be made (KernelLimitsIT has the kernel's).
     */
    @RegisterExtension
    static final GatewayExtension hard = DemoWorkers.gateway("rss-hard", Yaml.polledRssHardLimit(RSS_LIMIT_MIB));

    /**
     * Like {@link #soft}, with no warm workers and slow ones: the replacement for a worker over the
     * soft limit is a cold start, and the session waits for it in {@code restarting}.
     */
    @RegisterExtension
    static final GatewayExtension softCold = DemoWorkers.gateway("rss-soft-cold", """
            worker:
              process:
                env:
                  DEMO_READY_DELAY: 1500ms
            pool:
              min_idle: 0
            """ + SOFT_LIMIT);

    /** A detached session's running turn is interrupted after 500 ms. */
    @RegisterExtension
    static final GatewayExtension detached = DemoWorkers.gateway("detached", """
            limits:
              interrupt_after_disconnect: 500ms
            """);

    /** A turn silent for 400 ms is stalled; for 800 ms interrupted; for 1.2 s its worker is replaced. */
    @RegisterExtension
    static final GatewayExtension stalling = DemoWorkers.gateway("stalling", """
            limits:
              turn_stall_timeout: 400ms
            """);

    // ---- crashes and restarts ----

    @Test
    void crashWithQueuedMessagesRestartsAndLosesNothingQueued() {
        try (SessionClient c = SessionClient.openIdle(crashy, "crash-queue")) {
            long first = workerPid(crashy, c.sessionId());

            c.sendAccepted(
                    "m1", "{\"text\":\"ab\",\"deltas\":2,\"delay_ms\":300,\"crash\":3,\"crash_after_deltas\":2}", 0);
            // The session is processing m1 from the moment m1 was accepted: these queue, whenever they arrive.
            c.send("m2", "{\"text\":\"two\",\"deltas\":1,\"delay_ms\":0}");
            c.send("m3", "{\"text\":\"three\",\"deltas\":1,\"delay_ms\":0}");
            List<ServerMessage> seen = c.untilTag("status:idle");

            assertEquals(
                    List.of("accepted:m2:1", "accepted:m3:2"),
                    tags(seen).stream().filter(t -> t.startsWith("accepted")).toList());
            assertEquals(
                    List.of(
                            "status:processing",
                            "event:delta:m1",
                            "event:delta:m1",
                            "notice:worker_crashed",
                            "status:restarting:crash",
                            "notice:worker_restarted",
                            "status:processing",
                            "event:delta:m2",
                            "event:result:m2",
                            "event:delta:m3",
                            "event:result:m3",
                            "status:idle"),
                    historyTags(seen));
            ServerMessage.Notice crashed = notice(seen, "worker_crashed");
            assertEquals("m1", crashed.details().path("turn_id").asText());
            assertEquals(3, crashed.details().path("exit_code").asInt());
            assertEquals(
                    "crash",
                    notice(seen, "worker_restarted").details().path("reason").asText());
            assertEquals("two", resultText(seen, "m2"));
            assertEquals("three", resultText(seen, "m3"));

            // The crash was reported after the process had exited; the new worker is another process.
            assertFalse(ProcessTree.running(first), "crashed worker " + first + " still runs");
            long second = workerPid(crashy, c.sessionId());
            assertNotEquals(first, second);
            assertTrue(ProcessTree.running(second));
            c.roundTrip("m4", "{\"text\":\"after\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    @Test
    void crashLoopEndsTheSessionAtTheRestartLimit() {
        String subject = "crash-loop";
        String sessionId;
        List<Long> pids = new ArrayList<>();
        try (SessionClient c = SessionClient.openIdle(crashy, subject)) {
            sessionId = c.sessionId();
            for (int crash = 1; crash <= 2; crash++) {
                pids.add(workerPid(crashy, sessionId));
                c.sendAccepted("c" + crash, "{\"crash\":7}", 0);
                assertEquals(CRASHED_AND_RESTARTED, historyTags(c.untilTag("status:idle")));
            }
            pids.add(workerPid(crashy, sessionId));
            c.sendAccepted("c3", "{\"crash\":7}", 0);
            assertEquals(
                    List.of("status:processing", "notice:worker_crashed", "status:ended:restart_limit"),
                    historyTags(c.untilTag("status:ended:restart_limit")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        assertEquals(3, pids.stream().distinct().count(), "three different workers: " + pids);
        Poll.until(
                "session " + sessionId + " leaves the registry",
                () -> crashy.server().registry().get(sessionId).isEmpty());
        for (long pid : pids) {
            assertFalse(ProcessTree.running(pid), "worker " + pid + " of the ended session still runs");
        }
        ServerMessage.ErrorFrame expired = SessionClient.resumeEnded(crashy, subject, sessionId);
        assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
        assertEquals("restart_limit", expired.reason());
    }

    // ---- checkpoints (contract 7.2) ----

    @Test
    void theDemoWorkersTurnCountContinuesOnTheWorkerThatReplacesACrashedOne() {
        try (SessionClient c = SessionClient.openIdle(crashy, "checkpoint-crash")) {
            String quick = "{\"text\":\"x\",\"deltas\":1,\"delay_ms\":0}";
            assertEquals(
                    1,
                    SessionClient.event(c.roundTrip("t1", quick), "result")
                            .path("turn")
                            .asInt());
            assertEquals(
                    2,
                    SessionClient.event(c.roundTrip("t2", quick), "result")
                            .path("turn")
                            .asInt());
            long first = workerPid(crashy, c.sessionId());

            c.sendAccepted("boom", "{\"crash\":3}", 0);
            List<ServerMessage> restart = c.untilTag("status:idle");
            assertEquals(CRASHED_AND_RESTARTED, historyTags(restart));
            assertNotEquals(first, workerPid(crashy, c.sessionId()));

            // The crashed turn never finished, so it is not counted; the new worker goes on from 2.
            List<ServerMessage> third = c.roundTrip("t3", quick);
            assertEquals(3, SessionClient.event(third, "result").path("turn").asInt());
            assertTrue(
                    tags(third).stream().noneMatch(t -> t.startsWith("event:checkpoint")),
                    "checkpoints are never sent to the client: " + tags(third));
        }
    }

    @Test
    void aCheckpointOverTheLimitIsANoticeAndTheLastOneThatFitStays() {
        try (SessionClient c = SessionClient.openIdle(crashy, "checkpoint-too-large")) {
            c.roundTrip("t1", "{\"deltas\":0}");
            List<ServerMessage> big = c.roundTrip("t2", "{\"deltas\":0,\"checkpoint_pad\":2000}");
            ServerMessage.Notice tooLarge = notice(big, "checkpoint_too_large");
            assertTrue(tooLarge.message().contains("max_checkpoint_bytes"), tooLarge.message());

            c.sendAccepted("boom", "{\"crash\":3}", 0);
            c.untilTag("status:idle");
            // The worker resumed from turn 1's checkpoint: turn 2's was refused.
            assertEquals(
                    2,
                    SessionClient.event(c.roundTrip("t3", "{\"deltas\":0}"), "result")
                            .path("turn")
                            .asInt());
        }
    }

    // ---- RSS limits ----

    @Test
    void overTheSoftLimitTheTurnCompletesThenTheWorkerIsReplaced() {
        try (SessionClient c = SessionClient.openIdle(soft, "rss-soft")) {
            long old = workerPid(soft, c.sessionId());
            assertBaselineWellBelowLimit(old);

            // Allocates at once, then streams 4 deltas 300 ms apart: the turn outlives several RSS samples.
            c.sendAccepted(
                    "big",
                    "{\"allocate_mb\":%d,\"text\":\"abcd\",\"deltas\":4,\"delay_ms\":300}".formatted(ALLOCATE_MIB),
                    0);
            List<ServerMessage> seen = c.untilTag("status:idle");
            List<String> history = historyTags(seen);
            int scheduled = history.indexOf("notice:restart_scheduled");
            int result = history.indexOf("event:result:big");
            assertTrue(scheduled > 0 && scheduled < result, "restart_scheduled during the turn: " + history);
            assertEquals(
                    List.of(
                            "event:result:big",
                            "status:restarting:rss_soft_limit",
                            "notice:worker_restarted",
                            "status:idle"),
                    history.subList(result, history.size()));
            assertEquals("abcd", resultText(seen, "big"));
            JsonNode details = notice(seen, "restart_scheduled").details();
            assertTrue(
                    details.path("rss_bytes").asLong()
                            > details.path("limit_bytes").asLong(),
                    details::toString);
            assertEquals(
                    "rss_soft_limit",
                    notice(seen, "worker_restarted").details().path("reason").asText());

            long replacement = workerPid(soft, c.sessionId());
            assertNotEquals(old, replacement);
            Poll.until("replaced worker " + old + " is gone", () -> !ProcessTree.running(old));
            c.roundTrip("next", "{\"text\":\"fresh\",\"deltas\":1,\"delay_ms\":0}");
            assertEquals(replacement, workerPid(soft, c.sessionId()));
        }
    }

    @Test
    void overTheHardLimitTheWorkerIsKilledAtOnce() {
        try (SessionClient c = SessionClient.openIdle(hard, "rss-hard")) {
            long old = workerPid(hard, c.sessionId());
            assertBaselineWellBelowLimit(old);

            c.sendAccepted("big", "{\"allocate_mb\":%d,\"deltas\":0,\"hang\":true}".formatted(ALLOCATE_MIB), 0);
            List<ServerMessage> seen = c.untilTag("status:idle");
            // The limit may be crossed while the worker is still allocating: its "allocated" event may not come.
            List<String> history = historyTags(seen).stream()
                    .filter(t -> !t.equals("event:allocated:big"))
                    .toList();
            assertEquals(
                    List.of(
                            "status:processing",
                            "notice:worker_killed",
                            "status:restarting:rss_hard_limit",
                            "notice:worker_restarted",
                            "status:idle"),
                    history);
            JsonNode details = notice(seen, "worker_killed").details();
            assertEquals("big", details.path("turn_id").asText());
            assertTrue(
                    details.path("rss_bytes").asLong()
                            > details.path("limit_bytes").asLong(),
                    details::toString);

            long replacement = workerPid(hard, c.sessionId());
            assertNotEquals(old, replacement);
            Poll.until("killed worker " + old + " is gone", () -> !ProcessTree.running(old));
            c.roundTrip("next", "{\"text\":\"fresh\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    /** The session ends while it waits for the replacement of a worker over the soft limit: both workers go. */
    @Test
    void aSessionEndingDuringASoftRestartStopsTheOldWorkerToo() {
        String sessionId;
        long old;
        try (SessionClient c = SessionClient.openIdle(softCold, "rss-soft-ending")) {
            sessionId = c.sessionId();
            old = workerPid(softCold, sessionId);
            assertBaselineWellBelowLimit(old);
            c.sendAccepted(
                    "big",
                    "{\"allocate_mb\":%d,\"text\":\"ab\",\"deltas\":2,\"delay_ms\":300}".formatted(ALLOCATE_MIB),
                    0);
            List<String> history = historyTags(c.untilTag("status:restarting:rss_soft_limit"));
            assertTrue(
                    history.indexOf("notice:restart_scheduled") < history.indexOf("event:result:big"),
                    history::toString);
            // The replacement takes 1.5 s to get ready; the session ends before that (as on gateway shutdown).
            softCold.server().registry().get(sessionId).orElseThrow().end(EndReason.SHUTDOWN);
            assertEquals(List.of("status:ended:shutdown"), historyTags(c.untilTag("status:ended:shutdown")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        Poll.until(
                "the old worker " + old + " and the replacement are gone, with their directories",
                () -> List.<Collection<?>>of(
                        DemoWorkers.running("rss-soft-cold"), DemoWorkers.workDirs("rss-soft-cold")),
                left -> !ProcessTree.running(old) && left.stream().allMatch(Collection::isEmpty));
    }

    // ---- detached sessions ----

    @Test
    void aDetachedSessionsTurnIsInterruptedAndTheResultReplayed() throws InterruptedException {
        String subject = "detached";
        String sessionId;
        long pid;
        long seenUpTo;
        try (LogCapture log = LogCapture.of(Session.class.getName())) {
            try (SessionClient c = SessionClient.openIdle(detached, subject)) {
                sessionId = c.sessionId();
                pid = workerPid(detached, sessionId);
                c.sendAccepted("long", "{\"text\":\"x\",\"deltas\":1,\"hang\":true}", 0);
                c.untilTag("event:delta:long");
                seenUpTo = c.lastSeq();
            }
            log.await(e -> e.getFormattedMessage().startsWith("interrupting turn long")
                    && LogCapture.hasKeyValue(e, "session", sessionId));
        }
        try (SessionClient c = SessionClient.resume(detached, subject, sessionId, seenUpTo)) {
            assertTrue(c.ready.resumed());
            List<ServerMessage> seen = c.untilTag("status:idle");
            assertEquals(List.of("event:result:long", "status:idle"), historyTags(seen));
            assertTrue(
                    SessionClient.event(seen, "result").path("interrupted").asBoolean(),
                    () -> tags(seen).toString());
            // The interrupt ended the turn, not the worker.
            assertEquals(pid, workerPid(detached, sessionId));
            assertTrue(ProcessTree.running(pid));
            c.roundTrip("after", "{\"text\":\"still here\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    // ---- stalled turns ----

    @Test
    void aTurnSilentThroughItsInterruptIsReplacedAndTheNextMessageGoesOnWithANewWorker() {
        try (SessionClient c = SessionClient.openIdle(stalling, "stalled")) {
            long pid = workerPid(stalling, c.sessionId());
            c.sendAccepted("silent", "{\"text\":\"x\",\"deltas\":1,\"hang\":true,\"ignore_interrupt\":true}", 0);
            c.send("next", "{\"text\":\"after\",\"deltas\":1,\"delay_ms\":0}");
            List<ServerMessage> seen = c.untilTag("notice:worker_restarted");
            List<String> tags = historyTags(seen);
            assertEquals(
                    List.of(
                            "status:processing",
                            "event:delta:silent",
                            "notice:turn_stalled",
                            "notice:worker_killed",
                            "status:restarting:stalled",
                            "notice:worker_restarted"),
                    tags.subList(0, 6),
                    tags::toString);
            assertEquals(
                    "silent",
                    notice(seen, "turn_stalled").details().path("turn_id").asText());
            assertEquals(
                    "stalled",
                    notice(seen, "worker_killed").details().path("reason").asText());
            assertNotEquals(pid, workerPid(stalling, c.sessionId()), "the silent worker was replaced");
            List<ServerMessage> next = c.untilTag("status:idle");
            assertTrue(
                    historyTags(next).contains("event:result:next"),
                    "the queued message goes on: " + historyTags(next));
        }
    }

    // ---- helpers ----

    /** The pid of the worker serving {@code sessionId} now. */
    static long workerPid(GatewayExtension gateway, String sessionId) {
        return Poll.present(
                "session " + sessionId + " has a worker",
                () -> gateway.server()
                        .registry()
                        .get(sessionId)
                        .map(Session::currentWorker)
                        .flatMap(w -> w.pid().isPresent() ? Optional.of(w.pid().getAsLong()) : Optional.empty()));
    }

    private static void assertBaselineWellBelowLimit(long pid) {
        long baseline = ProcessTree.rssBytes(pid);
        assertTrue(
                baseline + 30L * 1024 * 1024 < RSS_LIMIT_MIB * 1024L * 1024,
                "a demo worker's baseline RSS (" + baseline / 1024 / 1024
                        + " MiB) leaves too little room below the limit");
    }

    private static String resultText(List<ServerMessage> seen, String id) {
        return seen.stream()
                .filter(m -> m instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText())
                        && id.equals(e.event().path("id").asText()))
                .map(m -> ((ServerMessage.Event) m).event().path("text").asText())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no result for " + id + " in " + tags(seen)));
    }
}
