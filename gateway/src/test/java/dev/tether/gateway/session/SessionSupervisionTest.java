package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.worker.FakeWorker;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.gateway.worker.WorkerUnavailableException;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Supervision of a session's worker, driven deterministically: the session runs on an
 * EmbeddedChannel's event loop with frozen time, workers are fakes the test controls, and timers
 * fire when the test advances time.
 */
class SessionSupervisionTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final WireCodec CODEC = new WireCodec();
    private static final String LIMITS = """
            sessions:
              reconnect_window: 10m
              max_queued_messages: 8
            limits:
              max_restarts: 2
              restart_window: 10m
              rss_soft_limit: 100MiB
              rss_hard_limit: 200MiB
              max_duration: 1h
              warning_ratio: 0.9
              duration_grace: 1m
              idle_timeout: 20m
              first_message_timeout: 5m
              interrupt_after_disconnect: 2m
              turn_stall_timeout: 0s
            """;

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final FakeWorkers workers = new FakeWorkers();
    private SessionRegistry registry;
    private Session session;
    private Connection connection;

    private static TokenVerifier verifier() {
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        return new TokenVerifier(Set.of("HS256"), secret, List.of(), null, null, Duration.ZERO, Clock.systemUTC());
    }

    private void start(boolean warm) {
        start(warm, LIMITS);
    }

    private void start(boolean warm, String yaml) {
        start(warm, yaml, Journal.NONE);
    }

    private void start(boolean warm, String yaml, Journal journal) {
        channel.freezeTime();
        GatewayConfig config = ConfigLoader.parse(yaml, Map.of());
        registry = new SessionRegistry(
                config.sessions(), config.limits(), CODEC, verifier(), workers, Ticker.systemTicker());
        workers.nextReady = warm;
        CompletionStage<Worker> first = workers.first();
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        session = journal == Journal.NONE
                ? registry.create("alice", channel.eventLoop(), first)
                : registry.create(registry.nextId(), "alice", channel.eventLoop(), first, journal);
        connection =
                new Connection(channel, new VerifiedToken("alice", Instant.now().plus(Duration.ofDays(7)), Map.of()));
        session.attach(connection, 0, false);
        channel.runPendingTasks();
    }

    @AfterEach
    void finish() {
        drain();
        channel.finishAndReleaseAll();
    }

    /** Everything the session sent since the last call, decoded. */
    private List<ServerMessage> drain() {
        channel.runPendingTasks();
        List<ServerMessage> out = new ArrayList<>();
        Object message;
        while ((message = channel.readOutbound()) != null) {
            if (message instanceof EncodedFrame frame) {
                out.add(CODEC.decodeServer(new String(frame.json(), StandardCharsets.UTF_8)));
            } else if (message instanceof ServerMessage server) {
                out.add(server);
            } else if (message instanceof CloseWebSocketFrame close) {
                out.add(new ServerMessage.ErrorFrame(
                        ErrorCode.SESSION_BUSY, "close " + close.statusCode(), null, null));
                ReferenceCountUtil.release(close);
            } else {
                ReferenceCountUtil.release(message);
            }
        }
        return out;
    }

    private void advance(Duration duration) {
        channel.advanceTimeBy(duration.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** The worker dies by itself, and the session (on its loop) notices. */
    private void crash(FakeWorker worker) {
        worker.crash(1, 0);
        channel.runPendingTasks();
    }

    /** The worker says ready, and the session (on its loop) takes it. */
    private void readyUp(FakeWorker worker) {
        worker.becomeReady();
        channel.runPendingTasks();
    }

    private void send(String id) {
        session.receive(connection, new ClientMessage.Message(id, TextNode.valueOf("hi " + id)));
        channel.runPendingTasks();
    }

    private static List<String> notices(List<ServerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Notice)
                .map(m -> ((ServerMessage.Notice) m).code())
                .toList();
    }

    private static List<SessionState> states(List<ServerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Status)
                .map(m -> ((ServerMessage.Status) m).state())
                .toList();
    }

    private static boolean closedWith(List<ServerMessage> messages, CloseCode code) {
        return messages.stream()
                .anyMatch(m ->
                        m instanceof ServerMessage.ErrorFrame e && e.message().equals("close " + code.code()));
    }

    @Test
    void warmWorkerStartsTheSessionIdle() {
        start(true);
        ServerMessage.SessionReady ready = assertInstanceOf(ServerMessage.SessionReady.class, drain().get(0));
        assertEquals(SessionState.IDLE, ready.state());
        assertEquals(0, ready.lastSeq());
    }

    @Test
    void coldWorkerStartsPreparingAndQueuesUntilReady() {
        start(false);
        List<ServerMessage> first = drain();
        assertEquals(SessionState.PREPARING, ((ServerMessage.SessionReady) first.get(0)).state());
        assertEquals(List.of(SessionState.PREPARING), states(first), "history from before the attach is delivered");
        send("m1");
        ServerMessage.Accepted accepted = assertInstanceOf(ServerMessage.Accepted.class, drain().get(0));
        assertEquals(1, accepted.queued(), "queued while the worker starts");
        readyUp(workers.last());
        List<ServerMessage> after = drain();
        assertEquals(List.of(SessionState.PROCESSING), states(after));
        assertEquals(List.of("m1"), workers.last().received());
    }

    @Test
    void crashRestartsWithAFreshWorkerAndQueuedMessagesReachIt() {
        start(true);
        FakeWorker first = workers.last();
        send("m1");
        send("m2");
        send("m3");
        drain();
        first.crash(137, 9);
        List<ServerMessage> crash = drain();
        ServerMessage.Notice notice = (ServerMessage.Notice) crash.stream()
                .filter(m -> m instanceof ServerMessage.Notice)
                .findFirst()
                .orElseThrow();
        assertEquals("worker_crashed", notice.code());
        assertEquals("m1", notice.details().get("turn_id").textValue());
        assertEquals(9, notice.details().get("signal").intValue());
        assertEquals(List.of(SessionState.RESTARTING), states(crash));
        FakeWorker second = workers.last();
        assertTrue(second != first);
        readyUp(second);
        List<ServerMessage> restarted = drain();
        assertEquals(List.of("worker_restarted"), notices(restarted));
        assertEquals(List.of("m2"), second.received(), "the queued message reaches the new worker");
        second.result("m2");
        drain();
        assertEquals(List.of("m2", "m3"), second.received());
        second.result("m3");
        assertEquals(List.of(SessionState.IDLE), states(drain()));
    }

    @Test
    void restartsBeyondTheBudgetEndTheSession() {
        start(true);
        crash(workers.last());
        readyUp(workers.last());
        crash(workers.last());
        readyUp(workers.last());
        drain();
        crash(workers.last());
        List<ServerMessage> end = drain();
        assertEquals(SessionState.ENDED, states(end).get(states(end).size() - 1));
        ServerMessage.Status ended = (ServerMessage.Status) end.stream()
                .filter(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.ENDED)
                .findFirst()
                .orElseThrow();
        assertEquals("restart_limit", ended.reason());
        assertTrue(closedWith(end, CloseCode.SESSION_ENDED));
        assertEquals(0, registry.size());
        assertInstanceOf(SessionRegistry.Lookup.Expired.class, registry.lookup(session.id(), "alice"));
    }

    @Test
    void theRestartWindowSlides() {
        start(true);
        send("m1");
        crash(workers.last());
        readyUp(workers.last());
        crash(workers.last());
        readyUp(workers.last());
        advance(Duration.ofMinutes(11));
        drain();
        crash(workers.last());
        List<ServerMessage> third = drain();
        assertEquals(List.of(SessionState.RESTARTING), states(third), "restarts older than the window no longer count");
    }

    @Test
    void softRssLimitReplacesTheWorkerAfterTheTurnWithTheReplacementWarmFirst() {
        start(true);
        FakeWorker old = workers.last();
        send("m1");
        drain();
        session.reportRss(old, 150L << 20);
        List<ServerMessage> scheduled = drain();
        assertEquals(List.of("restart_scheduled"), notices(scheduled));
        FakeWorker replacement = workers.last();
        assertTrue(replacement != old, "the replacement is started at once");
        assertFalse(old.stopped(), "the old worker finishes its turn");
        old.result("m1");
        drain();
        assertFalse(old.stopped(), "the old worker is stopped only once the replacement is warm");
        readyUp(replacement);
        List<ServerMessage> swapped = drain();
        assertTrue(old.stopped());
        assertEquals(List.of("worker_restarted"), notices(swapped));
        assertEquals(SessionState.IDLE, states(swapped).get(states(swapped).size() - 1));
        send("m2");
        assertEquals(List.of("m2"), replacement.received());
    }

    @Test
    void hardRssLimitKillsAtOnceAndRestarts() {
        start(true);
        FakeWorker old = workers.last();
        send("m1");
        drain();
        session.reportRss(old, 250L << 20);
        List<ServerMessage> killed = drain();
        assertTrue(old.killed());
        assertEquals(List.of("worker_killed"), notices(killed));
        assertEquals(List.of(SessionState.RESTARTING), states(killed));
        readyUp(workers.last());
        assertEquals(List.of("worker_restarted"), notices(drain()));
    }

    /** Contract 8.6: a kill by the kernel at the worker's memory limit has the outcome of the polled hard limit. */
    @Test
    void aKillByTheKernelAtTheMemoryLimitIsReportedAsMemoryLimitAndRestarts() {
        start(true);
        FakeWorker old = workers.last();
        send("m1");
        drain();
        old.crash(new WorkerExit(137, 9, "killed by the kernel at its memory limit", true, 200L << 20));
        List<ServerMessage> killed = drain();
        ServerMessage.Notice notice = (ServerMessage.Notice) killed.stream()
                .filter(m -> m instanceof ServerMessage.Notice)
                .findFirst()
                .orElseThrow();
        assertEquals("worker_killed", notice.code());
        assertEquals("memory_limit", notice.details().path("reason").asText());
        assertEquals("m1", notice.details().path("turn_id").asText());
        assertEquals(200L << 20, notice.details().path("rss_bytes").asLong());
        assertEquals(List.of(SessionState.RESTARTING), states(killed));
        assertTrue(
                killed.stream().anyMatch(m -> m instanceof ServerMessage.Status s && "memory_limit".equals(s.reason())),
                killed::toString);
        readyUp(workers.last());
        List<ServerMessage> restarted = drain();
        assertEquals(List.of("worker_restarted"), notices(restarted));
        assertEquals(
                "memory_limit",
                ((ServerMessage.Notice) restarted.stream()
                                .filter(m -> m instanceof ServerMessage.Notice)
                                .findFirst()
                                .orElseThrow())
                        .details()
                        .path("reason")
                        .asText());
    }

    @Test
    void rssOfAWorkerNoLongerInUseIsIgnored() {
        start(true);
        FakeWorker old = workers.last();
        old.crash(1, 0);
        drain();
        session.reportRss(old, 500L << 20);
        assertTrue(notices(drain()).isEmpty());
        assertFalse(old.killed());
    }

    @Test
    void durationWarningThenGraceForTheRunningTurnThenEnd() {
        start(true);
        send("m1");
        drain();
        advance(Duration.ofMinutes(54));
        assertEquals(List.of("duration_warning"), notices(drain()));
        advance(Duration.ofMinutes(6));
        assertEquals(List.of("duration_limit"), notices(drain()));
        send("m2");
        ServerMessage.ErrorFrame busy = assertInstanceOf(ServerMessage.ErrorFrame.class, drain().get(0));
        assertEquals(ErrorCode.SESSION_BUSY, busy.code());
        advance(Duration.ofSeconds(59));
        assertTrue(drain().isEmpty(), "the turn still has grace");
        advance(Duration.ofSeconds(1));
        List<ServerMessage> end = drain();
        assertEquals(SessionState.ENDED, states(end).get(0));
        assertTrue(closedWith(end, CloseCode.SESSION_ENDED));
    }

    @Test
    void durationLimitEndsAtOnceWhenIdleOrWhenTheTurnEndsWithinGrace() {
        start(true);
        send("m1");
        advance(Duration.ofHours(1));
        drain();
        workers.last().result("m1");
        List<ServerMessage> end = drain();
        ServerMessage.Status ended = (ServerMessage.Status) end.stream()
                .filter(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.ENDED)
                .findFirst()
                .orElseThrow();
        assertEquals("duration_limit", ended.reason());
    }

    @Test
    void firstMessageTimeoutEndsAnUnusedSession() {
        start(true);
        drain();
        advance(Duration.ofMinutes(5));
        List<ServerMessage> end = drain();
        assertEquals("first_message_timeout", ((ServerMessage.Status) end.get(0)).reason());
        assertTrue(workers.last().stopped());
    }

    @Test
    void idleTimeoutCountsFromTheLastTurnAndResetsWithEachMessage() {
        start(true);
        send("m1");
        workers.last().result("m1");
        drain();
        advance(Duration.ofMinutes(19));
        send("m2");
        workers.last().result("m2");
        drain();
        advance(Duration.ofMinutes(19));
        assertTrue(drain().isEmpty());
        advance(Duration.ofMinutes(1));
        assertEquals("idle_timeout", ((ServerMessage.Status) drain().get(0)).reason());
    }

    @Test
    void aLongTurnIsNotIdle() {
        start(true);
        send("m1");
        drain();
        advance(Duration.ofMinutes(45));
        assertTrue(states(drain()).isEmpty(), "a running turn never counts as idle");
    }

    @Test
    void backToBackTurnsEachTellTheStoreWhichTurnRuns() {
        RecordingJournal journal = new RecordingJournal(Long.MAX_VALUE);
        start(true, LIMITS, journal);
        send("m1");
        send("m2"); // queued: starts the moment m1's result comes, with no status between
        workers.last().result("m1");
        channel.runPendingTasks();
        assertEquals(
                List.of("processing m1", "processing m2"),
                journal.states.stream()
                        .filter(state -> state.startsWith("processing"))
                        .toList(),
                "a node taking the session over during m2 must find m2 named as the running turn");
    }

    @Test
    void aSilentTurnIsNoticedThenInterruptedThenItsWorkerReplacedKeepingWhatIsQueued() {
        start(true, LIMITS.replace("turn_stall_timeout: 0s", "turn_stall_timeout: 5m"));
        FakeWorker first = workers.last();
        send("m1");
        send("m2"); // queued behind m1
        drain();
        advance(Duration.ofMinutes(4));
        first.event(JSON.objectNode().put("type", "delta"));
        channel.runPendingTasks();
        advance(Duration.ofMinutes(1));
        advance(Duration.ofMinutes(3));
        assertEquals(List.of(), notices(drain()), "output 4 minutes in: at 8 minutes silent for 4 only");
        advance(Duration.ofMinutes(1));
        List<ServerMessage> stalled = drain();
        assertEquals(List.of("turn_stalled"), notices(stalled), "silent for 5 minutes");
        ServerMessage.Notice notice = (ServerMessage.Notice) stalled.stream()
                .filter(m -> m instanceof ServerMessage.Notice)
                .findFirst()
                .orElseThrow();
        assertEquals("m1", notice.details().path("turn_id").asText());
        assertEquals(0, first.interrupts());
        advance(Duration.ofMinutes(5));
        assertEquals(1, first.interrupts(), "silent for 10 minutes: interrupted");
        assertEquals(List.of(), notices(drain()));
        advance(Duration.ofMinutes(5));
        List<ServerMessage> replaced = drain();
        assertTrue(first.killed(), "silent for 15 minutes, even after the interrupt: killed");
        assertEquals(List.of("worker_killed"), notices(replaced));
        assertEquals(List.of(SessionState.RESTARTING), states(replaced));
        readyUp(workers.last());
        List<ServerMessage> after = drain();
        assertEquals(List.of("worker_restarted"), notices(after));
        assertEquals(List.of("m2"), workers.last().received(), "the queued message goes on with the new worker");
    }

    @Test
    void aTurnThatKeepsTalkingIsNeverStalledAndTheWatchStopsWithTheTurn() {
        start(true, LIMITS.replace("turn_stall_timeout: 0s", "turn_stall_timeout: 5m"));
        FakeWorker worker = workers.last();
        send("m1");
        for (int i = 0; i < 10; i++) {
            advance(Duration.ofMinutes(3));
            worker.event(JSON.objectNode().put("type", "delta"));
            channel.runPendingTasks();
        }
        worker.result("m1");
        channel.runPendingTasks();
        advance(Duration.ofMinutes(20));
        assertTrue(notices(drain()).isEmpty(), "30 minutes of a talking turn, then 20 idle: no stall");
        assertEquals(0, worker.interrupts());
    }

    @Test
    void detachedSessionsRunningTurnIsInterruptedAfterTheConfiguredTime() {
        start(true);
        send("m1");
        drain();
        session.detach(connection);
        channel.runPendingTasks();
        advance(Duration.ofMinutes(1));
        assertEquals(0, workers.last().interrupts());
        advance(Duration.ofMinutes(1));
        assertEquals(1, workers.last().interrupts());
    }

    @Test
    void aDetachedTurnWaitingForTheUserIsNotInterruptedUntilItsRequestResolves() {
        // interrupt_after_disconnect 2m, reconnect_window 10m.
        start(true, LIMITS.replace("turn_stall_timeout: 0s", "turn_stall_timeout: 0s\n  request_timeout: 5m"));
        send("m1");
        workers.last().request("r1");
        channel.runPendingTasks();
        drain();
        session.detach(connection);
        channel.runPendingTasks();
        advance(Duration.ofMinutes(4));
        assertEquals(0, workers.last().interrupts(), "the turn waits for the user: not interrupted for the disconnect");
        assertEquals(List.of(), workers.last().responses());

        advance(Duration.ofMinutes(1));
        assertEquals(List.of("r1 timeout"), workers.last().responses(), "request_timeout resolves it");
        advance(Duration.ofMinutes(1));
        assertEquals(0, workers.last().interrupts());
        advance(Duration.ofMinutes(1));
        assertEquals(1, workers.last().interrupts(), "then the usual interrupt_after_disconnect, from the resolution");
    }

    @Test
    void aRequestResolvesOnceWhateverComesFirst() {
        start(true);
        send("m1");
        workers.last().request("r1");
        workers.last().request("r2");
        channel.runPendingTasks();
        List<ServerMessage> asked = drain();
        ServerMessage.Request first = (ServerMessage.Request) asked.stream()
                .filter(m -> m instanceof ServerMessage.Request)
                .findFirst()
                .orElseThrow();
        session.receive(
                connection, new ClientMessage.Respond("r1", JSON.objectNode().put("ok", true)));
        session.receive(
                connection, new ClientMessage.Respond("r1", JSON.objectNode().put("ok", false)));
        session.receive(connection, new ClientMessage.Interrupt());
        channel.runPendingTasks();
        workers.last().result("m1");
        channel.runPendingTasks();
        List<ServerMessage> after = drain();
        assertEquals(List.of("r1 answered", "r2 cancelled"), workers.last().responses());
        assertEquals(
                ErrorCode.REQUEST_RESOLVED,
                after.stream()
                        .filter(m -> m instanceof ServerMessage.ErrorFrame)
                        .map(m -> ((ServerMessage.ErrorFrame) m).code())
                        .findFirst()
                        .orElseThrow());
        assertEquals(
                List.of("r1:answered", "r2:cancelled"),
                after.stream()
                        .filter(m -> m instanceof ServerMessage.RequestResolved)
                        .map(m -> ((ServerMessage.RequestResolved) m).requestId() + ":"
                                + ((ServerMessage.RequestResolved) m).outcome().wire())
                        .toList());
        assertEquals("r1", first.requestId());
    }

    @Test
    void resumeBeforeTheDeadlineCancelsTheInterrupt() {
        start(true);
        send("m1");
        session.detach(connection);
        channel.runPendingTasks();
        advance(Duration.ofMinutes(1));
        session.attach(connection, 0, true);
        channel.runPendingTasks();
        advance(Duration.ofMinutes(5));
        assertEquals(0, workers.last().interrupts());
    }

    @Test
    void endedSessionStopsItsWorkerAndAPendingReplacement() {
        start(true);
        FakeWorker old = workers.last();
        send("m1");
        session.reportRss(old, 150L << 20);
        channel.runPendingTasks();
        FakeWorker replacement = workers.last();
        readyUp(replacement);
        session.end(EndReason.SHUTDOWN);
        channel.runPendingTasks();
        assertTrue(old.stopped());
        assertTrue(replacement.stopped());
        assertNotNull(registry.lookup(session.id(), "alice"));
    }

    // ---- drain ----

    @Test
    void drainLetsTheRunningTurnFinishDropsTheQueueAndRefusesLaterMessages() {
        start(true);
        send("m1");
        send("m2");
        drain();
        CompletableFuture<Void> settled = session.drain(4).toCompletableFuture();
        channel.runPendingTasks();
        List<ServerMessage> draining = drain();
        assertEquals(new ServerMessage.ShuttingDown(4), draining.get(0));
        assertEquals(
                new ServerMessage.ErrorFrame(
                        ErrorCode.SHUTTING_DOWN,
                        "the gateway is shutting down: this queued message was not started",
                        "m2",
                        null),
                draining.get(1));
        assertFalse(settled.isDone(), "m1 is still running");

        send("m3");
        send("m1"); // even a retransmission of a taken id
        List<ServerMessage> refused = drain();
        assertEquals(
                List.of("m3", "m1"),
                refused.stream().map(m -> ((ServerMessage.ErrorFrame) m).id()).toList());
        assertTrue(refused.stream().allMatch(m -> ((ServerMessage.ErrorFrame) m).code() == ErrorCode.SHUTTING_DOWN));

        workers.last().result("m1");
        List<ServerMessage> finished = drain();
        assertEquals(List.of(SessionState.IDLE), states(finished));
        assertTrue(settled.isDone(), "settled once no turn runs");
        assertEquals(List.of("m1"), workers.last().received(), "nothing else reached the worker");

        session.end(EndReason.SHUTDOWN, CloseCode.GOING_AWAY);
        List<ServerMessage> ended = drain();
        assertEquals(List.of(SessionState.ENDED), states(ended));
        assertTrue(closedWith(ended, CloseCode.GOING_AWAY));
        assertTrue(workers.last().stopped());
    }

    @Test
    void drainOfAnIdleSessionSettlesAtOnceAndALaterAttachIsToldToo() {
        start(true);
        drain();
        CompletableFuture<Void> settled = session.drain(4).toCompletableFuture();
        channel.runPendingTasks();
        assertTrue(settled.isDone(), "no turn runs");
        assertEquals(List.of(new ServerMessage.ShuttingDown(4)), drain());
        session.detach(connection);
        Connection again = new Connection(channel, connection.token());
        session.attach(again, 0, true);
        List<ServerMessage> attached = drain();
        assertInstanceOf(ServerMessage.SessionReady.class, attached.get(0));
        assertEquals(new ServerMessage.ShuttingDown(4), attached.get(attached.size() - 1));
    }

    @Test
    void endFromTheClientInterruptsTheTurnStopsTheWorkerAndClosesNormally() {
        start(true);
        FakeWorker worker = workers.last();
        send("m1");
        drain();
        session.receive(connection, new ClientMessage.End());
        List<ServerMessage> ended = drain();
        assertEquals(1, worker.interrupts(), "the running turn is interrupted first");
        assertTrue(worker.stopped(), "then the worker is stopped");
        assertEquals(List.of(SessionState.ENDED), states(ended));
        assertEquals(
                "client_end",
                ended.stream()
                        .filter(m -> m instanceof ServerMessage.Status)
                        .map(m -> ((ServerMessage.Status) m).reason())
                        .findFirst()
                        .orElseThrow());
        assertTrue(closedWith(ended, CloseCode.NORMAL), "closed with 1000: " + ended);
        SessionRegistry.Lookup.Expired expired =
                assertInstanceOf(SessionRegistry.Lookup.Expired.class, registry.lookup(session.id(), "alice"));
        assertEquals(EndReason.CLIENT_END, expired.reason());
    }

    @Test
    void endOfAnIdleSessionSendsNoInterrupt() {
        start(true);
        FakeWorker worker = workers.last();
        drain();
        session.receive(connection, new ClientMessage.End());
        drain();
        assertEquals(0, worker.interrupts());
        assertTrue(worker.stopped());
    }

    // ---- extensions (contract 1.2, 8.3) ----

    private static final String EXTENSIONS = LIMITS + "  max_extensions: 2\n  extension: 30m\n";

    private List<ServerMessage> extend(Connection from) {
        session.receive(from, new ClientMessage.Extend());
        return drain();
    }

    private static ServerMessage.Notice notice(List<ServerMessage> messages, String code) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Notice n && n.code().equals(code))
                .map(ServerMessage.Notice.class::cast)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no notice " + code + " in " + messages));
    }

    private static void assertRefused(List<ServerMessage> answer, String why) {
        ServerMessage.ErrorFrame error =
                assertInstanceOf(ServerMessage.ErrorFrame.class, answer.get(0), answer::toString);
        assertEquals(ErrorCode.EXTENSION_REFUSED, error.code());
        assertTrue(error.message().contains(why), error.message());
        assertEquals(1, answer.size(), "nothing else, nothing in history");
    }

    @Test
    void extendMovesTheEndAndTheWarningLaterUntilTheAllowanceIsUsedUp() {
        start(true, EXTENSIONS);
        ServerMessage.SessionReady ready = assertInstanceOf(ServerMessage.SessionReady.class, drain().get(0));
        long endsAt = ready.endsAt();
        send("m1"); // a turn runs throughout, so the idle timeout never ends the session
        drain();
        ServerMessage.Notice extended = notice(extend(connection), "duration_extended");
        assertEquals(endsAt + 1800, extended.details().get("ends_at").asLong());
        assertEquals(1, extended.details().get("extensions_left").asInt());
        advance(Duration.ofMinutes(54));
        assertTrue(notices(drain()).isEmpty(), "the warning moved with the end");
        advance(Duration.ofMinutes(30));
        ServerMessage.Notice warning = notice(drain(), "duration_warning");
        assertEquals(endsAt + 1800, warning.details().get("ends_at").asLong());

        // The second extension comes after the warning: the warning comes again before the new end.
        assertEquals(
                endsAt + 3600,
                notice(extend(connection), "duration_extended")
                        .details()
                        .get("ends_at")
                        .asLong());
        assertRefused(extend(connection), "used all 2");
        advance(Duration.ofMinutes(30));
        assertEquals(List.of("duration_warning"), notices(drain()));
        advance(Duration.ofMinutes(6));
        assertEquals(List.of("duration_limit"), notices(drain()));
        assertRefused(extend(connection), "is ending");

        session.detach(connection);
        Connection again = new Connection(channel, connection.token());
        session.attach(again, 0, true);
        ServerMessage.SessionReady resumed = assertInstanceOf(ServerMessage.SessionReady.class, drain().get(0));
        assertEquals(endsAt + 3600, resumed.endsAt(), "a resume sees the end as extended");
    }

    @Test
    void extendIsRefusedWhenTheGatewayGrantsNone() {
        start(true);
        ServerMessage.SessionReady ready = assertInstanceOf(ServerMessage.SessionReady.class, drain().get(0));
        assertRefused(extend(connection), "grants no extensions");
        session.detach(connection);
        Connection again = new Connection(channel, connection.token());
        session.attach(again, 0, true);
        assertEquals(
                ready.endsAt(),
                assertInstanceOf(ServerMessage.SessionReady.class, drain().get(0))
                        .endsAt());
    }

    @Test
    void aGrantedExtensionIsJournalledSoThatItTravelsWithTheSession() {
        RecordingJournal journal = new RecordingJournal(Long.MAX_VALUE);
        start(true, EXTENSIONS, journal);
        drain();
        extend(connection);
        extend(connection);
        extend(connection);
        assertEquals(List.of(1, 2), journal.extensions);
    }

    // ---- transitions not covered above (Session's table, one test per row) ----

    @Test
    void aColdWorkerThatNeverGetsReadyEndsThePreparingSession() {
        start(false);
        drain();
        workers.last().ready().completeExceptionally(new IOException("exited before it was ready"));
        channel.runPendingTasks();
        List<ServerMessage> ended = drain();
        assertEquals(List.of(SessionState.ENDED), states(ended));
        assertEquals(
                EndReason.WORKER_FAILED,
                ((SessionRegistry.Lookup.Expired) registry.lookup(session.id(), "alice")).reason());
    }

    @Test
    void aReplacementThatNeverGetsReadyEndsTheRestartingSession() {
        start(true);
        crash(workers.last());
        assertEquals(List.of(SessionState.RESTARTING), states(drain()));
        workers.last().ready().completeExceptionally(new IOException("exited before it was ready"));
        channel.runPendingTasks();
        assertEquals(List.of(SessionState.ENDED), states(drain()));
        assertEquals(
                EndReason.WORKER_FAILED,
                ((SessionRegistry.Lookup.Expired) registry.lookup(session.id(), "alice")).reason());
    }

    @Test
    void aCrashWhenNoWorkerCanBeHadEndsTheSession() {
        start(true);
        workers.refuse = true;
        crash(workers.last());
        List<ServerMessage> ended = drain();
        assertEquals(List.of(SessionState.RESTARTING, SessionState.ENDED), states(ended));
        assertEquals(List.of("worker_crashed"), notices(ended));
    }

    @Test
    void theSoftLimitWhileIdleReplacesTheWorkerAtOnce() {
        start(true);
        FakeWorker old = workers.last();
        drain();
        session.reportRss(old, 150L << 20);
        List<ServerMessage> restarting = drain();
        assertEquals(List.of("restart_scheduled"), notices(restarting));
        assertEquals(List.of(SessionState.RESTARTING), states(restarting));
        FakeWorker replacement = workers.last();
        readyUp(replacement);
        assertTrue(old.stopped(), "the old worker goes once its successor is ready");
        List<ServerMessage> swapped = drain();
        assertEquals(List.of("worker_restarted"), notices(swapped));
        assertEquals(List.of(SessionState.IDLE), states(swapped));
    }

    @Test
    void aSoftRestartWithoutAReservedReplacementStopsTheOldWorkerFirst() {
        start(true);
        FakeWorker old = workers.last();
        send("m1");
        drain();
        workers.refuse = true;
        session.reportRss(old, 150L << 20);
        drain();
        workers.refuse = false;
        old.result("m1");
        channel.runPendingTasks();
        assertTrue(old.stopped(), "stopped first, to free its place");
        FakeWorker fresh = workers.last();
        assertTrue(fresh != old, "then a new worker is asked for");
        readyUp(fresh);
        List<ServerMessage> after = drain();
        assertEquals(List.of("worker_restarted"), notices(after));
        assertEquals(SessionState.IDLE, states(after).get(states(after).size() - 1));
    }

    @Test
    void aResultStartsTheNextQueuedMessage() {
        start(true);
        FakeWorker worker = workers.last();
        send("m1");
        send("m2");
        drain();
        worker.result("m1");
        channel.runPendingTasks();
        assertEquals(List.of("m1", "m2"), worker.received());
        assertEquals(List.of(), states(drain()), "still processing (no status between back-to-back turns)");
        worker.result("m2");
        channel.runPendingTasks();
        assertEquals(List.of(SessionState.IDLE), states(drain()));
    }

    @Test
    void outputOfAReplacedWorkerIsNeverReported() {
        start(true);
        FakeWorker old = workers.last();
        crash(old);
        drain();
        readyUp(workers.last());
        drain();
        old.result("late");
        channel.runPendingTasks();
        assertTrue(drain().isEmpty(), "a replaced worker's output is dropped");
    }

    @Test
    void aConnectionGoneBeforeItsAttachRanNeverTakesTheSession() {
        start(true);
        drain();
        EmbeddedChannel dead = new EmbeddedChannel();
        assertTrue(dead.close().isSuccess());
        session.attach(new Connection(dead, connection.token()), 0, true);
        channel.runPendingTasks();
        assertTrue(drain().isEmpty(), "the live connection is not replaced");
        assertTrue(session.attached());
        send("after");
        assertEquals(List.of("after"), workers.last().received());
        dead.finishAndReleaseAll();
    }

    // ---- checkpoints (contract 7.2) ----

    @Test
    void theNewestCheckpointGoesToTheWorkerThatContinuesAfterACrashAndNeverToTheClient() {
        start(true);
        FakeWorker first = workers.last();
        assertNull(first.resume(), "a new session's worker gets no resume");
        send("m1");
        first.checkpoint(JSON.objectNode().put("turns", 1));
        first.result("m1");
        send("m2");
        first.checkpoint(JSON.objectNode().put("turns", 2));
        first.result("m2");
        List<ServerMessage> seen = drain();
        assertTrue(
                seen.stream()
                        .noneMatch(m -> m instanceof ServerMessage.Event e
                                && "checkpoint".equals(e.event().path("type").asText())),
                "a checkpoint is not history: " + seen);
        crash(first);
        FakeWorker second = workers.last();
        readyUp(second);
        assertEquals(JSON.objectNode().put("turns", 2), second.resume());
        // The replaced worker's late checkpoint is not the session's any more.
        first.checkpoint(JSON.objectNode().put("turns", 99));
        channel.runPendingTasks();
        crash(second);
        readyUp(workers.last());
        assertEquals(JSON.objectNode().put("turns", 2), workers.last().resume());
    }

    @Test
    void aForksWorkersContinueTheInheritedCheckpointAsAForkUntilTheirOwnFirstCheckpoint() {
        channel.freezeTime();
        GatewayConfig config = ConfigLoader.parse(LIMITS, Map.of());
        registry = new SessionRegistry(
                config.sessions(), config.limits(), CODEC, verifier(), workers, Ticker.systemTicker());
        workers.nextReady = true;
        CompletionStage<Worker> first = workers.first();
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        VerifiedToken alice = new VerifiedToken("alice", Instant.now().plus(Duration.ofDays(7)), Map.of());
        session = registry.createFork(
                null,
                alice,
                channel.eventLoop(),
                first,
                Journal.NONE,
                "parent-id",
                new ForkSource.Found(JSON.objectNode().put("turns", 2), 7L));
        connection = new Connection(channel, alice);
        session.attach(connection, 0, false);
        channel.runPendingTasks();
        ServerMessage.SessionReady ready = (ServerMessage.SessionReady) drain().get(0);
        assertEquals("parent-id", ready.forkedFrom());
        assertEquals(7L, ready.forkSeqValue());
        FakeWorker forked = workers.last();
        assertEquals(JSON.objectNode().put("turns", 2), forked.resume());
        assertTrue(forked.forked(), "the fork's first worker continues the parent's checkpoint as a fork");

        crash(forked);
        FakeWorker again = workers.last();
        readyUp(again);
        assertEquals(JSON.objectNode().put("turns", 2), again.resume());
        assertTrue(again.forked(), "still the parent's checkpoint: still a fork, never a resume of it");

        send("m1");
        again.checkpoint(JSON.objectNode().put("turns", 3));
        again.result("m1");
        crash(again);
        FakeWorker own = workers.last();
        readyUp(own);
        assertEquals(JSON.objectNode().put("turns", 3), own.resume());
        assertFalse(own.forked(), "the fork's own checkpoint: an ordinary resume");
        var source = session.forkSource().toCompletableFuture();
        channel.runPendingTasks();
        ForkSource.Found found = (ForkSource.Found) source.getNow(null);
        assertEquals(JSON.objectNode().put("turns", 3), found.checkpoint(), "a fork of the fork gets its own");
        assertTrue(found.seq() > 0, "taken at the fork's own seq: " + found.seq());
    }

    @Test
    void aWorkerReplacedAfterTheSoftLimitHandsItsCheckpointToItsSuccessor() {
        start(true);
        FakeWorker first = workers.last();
        send("m1");
        session.reportRss(first, 150L << 20);
        channel.runPendingTasks();
        first.checkpoint(JSON.objectNode().put("turns", 1));
        first.result("m1");
        channel.runPendingTasks();
        FakeWorker replacement = workers.last();
        assertTrue(replacement != first, "a replacement was reserved");
        readyUp(replacement);
        assertEquals(JSON.objectNode().put("turns", 1), replacement.resume());
        assertTrue(first.stopped(), "the old worker is stopped once its successor is ready");
    }

    @Test
    void aSessionThatMovedHereKeepsItsAgeItsHistoryAndItsMessageIds() {
        start(true);
        drain();
        Instant created = Instant.now().minus(Duration.ofMinutes(55));
        byte[] digest = new Inbox(1, 8).digestOf(new ClientMessage.Message("m-old", TextNode.valueOf("x")));
        byte[] frame = CODEC.encodeToBytes(new ServerMessage.Status(7, SessionState.IDLE, null));
        Restored restored = new Restored(
                created,
                7,
                List.of(new ReplayBuffer.Entry(7, frame)),
                List.of(digest),
                List.of(),
                JSON.objectNode().put("turns", 4),
                null,
                "elsewhere",
                0,
                null);
        SessionStore elsewhere = new SessionStore() {
            @Override
            public boolean shared() {
                return true;
            }

            @Override
            public CompletionStage<Creation> create(
                    String id, String subject, long tokenExpiresAt, EventExecutor executor) {
                throw new UnsupportedOperationException("this test only moves a session here");
            }

            @Override
            public CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor) {
                return CompletableFuture.completedFuture(
                        new Adoption.Adopted(Journal.NONE, restored, channel.eventLoop()));
            }
        };
        SessionRegistry here = new SessionRegistry(
                ConfigLoader.parse(LIMITS, Map.of()),
                CODEC,
                verifier(),
                workers,
                Ticker.systemTicker(),
                Clock.systemUTC(),
                GatewayMetrics.NONE,
                elsewhere);
        assertEquals(SessionRegistry.Admission.ADMITTED, here.admitMove("alice"));
        SessionRegistry.TakeOver outcome = here.takeOver("moved-1", "alice", 6, channel.eventLoop(), workers.first())
                .toCompletableFuture()
                .join();
        Session moved = ((SessionRegistry.TakeOver.Here) outcome).session();
        EmbeddedChannel other = new EmbeddedChannel();
        Connection client = new Connection(other, connection.token());
        moved.attach(client, 6, true);
        channel.runPendingTasks();
        workers.last().becomeReady();
        channel.runPendingTasks();
        assertEquals(
                JSON.objectNode().put("turns", 4), workers.last().resume(), "the worker continues from the checkpoint");
        moved.receive(client, new ClientMessage.Message("m-old", TextNode.valueOf("again")));
        channel.runPendingTasks();
        assertEquals(List.of(), workers.last().received(), "an id taken on the other node is a duplicate here");
        assertEquals(SessionRegistry.Admission.ADMITTED, here.admitMove("alice"));
        assertTrue(
                here.takeOver("moved-1", "alice", 6, channel.eventLoop(), workers.first())
                                        .toCompletableFuture()
                                        .join()
                                instanceof SessionRegistry.TakeOver.Here again
                        && again.session() == moved,
                "a second resume finds the session here and does not take it over again");
        assertEquals(SessionRegistry.Admission.ADMITTED, here.admitMove("mallory"));
        assertTrue(
                here.takeOver("moved-1", "mallory", 6, channel.eventLoop(), workers.first())
                                .toCompletableFuture()
                                .join()
                        instanceof SessionRegistry.TakeOver.Refused,
                "another user's resume of the same id learns nothing");
        // 55 of its 60 minutes are gone: the warning is past, the end comes in 5 minutes, not 60.
        advance(Duration.ofMinutes(5));
        assertTrue(
                moved.state() == SessionState.ENDED,
                "ended at max_duration counted from its creation: " + moved.state());
        other.finishAndReleaseAll();
    }

    /** Hands out fake workers, ready at once or when the test says so. */
    private static final class FakeWorkers implements WorkerSource {
        final ArrayDeque<FakeWorker> all = new ArrayDeque<>();
        boolean nextReady = true;
        /** No worker can be had: acquire throws, as at pool.max_workers. */
        boolean refuse;

        @Override
        public CompletionStage<Worker> acquire() throws WorkerUnavailableException {
            if (refuse) {
                throw new WorkerUnavailableException("no worker available (test)");
            }
            FakeWorker worker = new FakeWorker(4242 + all.size(), "fake-workers");
            if (nextReady) {
                worker.becomeReady();
            }
            nextReady = false;
            all.addLast(worker);
            return CompletableFuture.completedFuture(worker);
        }

        /** The session's first worker (nothing refuses it). */
        CompletionStage<Worker> first() {
            try {
                return acquire();
            } catch (WorkerUnavailableException e) {
                throw new AssertionError(e);
            }
        }

        FakeWorker last() {
            return all.peekLast();
        }

        @Override
        public void close() {}
    }
}
