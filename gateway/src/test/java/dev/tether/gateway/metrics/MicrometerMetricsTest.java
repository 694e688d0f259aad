package dev.tether.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tether.gateway.metrics.GatewayMetrics.RestartCause;
import dev.tether.gateway.metrics.GatewayMetrics.StartKind;
import dev.tether.gateway.worker.pool.BreakerState;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.UpgradeRefusal;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Each event moves its meter, with its tags, and nothing else. */
class MicrometerMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MicrometerMetrics metrics = new MicrometerMetrics(registry);

    private double counter(String name, String... tags) {
        return registry.get(name).tags(tags).counter().count();
    }

    private double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    @Test
    void connectionsCountOpenedAndActive() {
        metrics.connectionOpened();
        metrics.connectionOpened();
        metrics.connectionClosed();
        assertEquals(2, counter(MeterNames.CONNECTIONS_OPENED));
        assertEquals(1, gauge(MeterNames.CONNECTIONS_ACTIVE));
    }

    @Test
    void refusalsAreCountedByTheirCodeAndEveryCodeStartsAtZero() {
        metrics.upgradeRefused(UpgradeRefusal.UNAUTHORIZED);
        metrics.upgradeRefused(UpgradeRefusal.UNAUTHORIZED);
        assertEquals(2, counter(MeterNames.UPGRADES_REFUSED, MeterNames.REASON, "unauthorized"));
        assertEquals(0, counter(MeterNames.UPGRADES_REFUSED, MeterNames.REASON, UpgradeRefusal.AT_CAPACITY.code()));
    }

    @Test
    void authFailuresCarryStageAndLowerCaseReason() {
        metrics.authFailed(MeterNames.STAGE_UPGRADE, "BAD_SIGNATURE");
        metrics.authFailed(MeterNames.STAGE_REFRESH, MeterNames.AUTH_WRONG_SUBJECT);
        assertEquals(
                1, counter(MeterNames.AUTH_FAILURES, MeterNames.STAGE, "upgrade", MeterNames.REASON, "bad_signature"));
        assertEquals(
                1, counter(MeterNames.AUTH_FAILURES, MeterNames.STAGE, "refresh", MeterNames.REASON, "wrong_subject"));
    }

    @Test
    void messagesAndRejectedFrames() {
        metrics.messageIn();
        metrics.messageOut();
        metrics.messageOut();
        metrics.frameRejected(ErrorCode.INVALID_JSON);
        metrics.batchOut();
        assertEquals(1, counter(MeterNames.MESSAGES_IN));
        assertEquals(2, counter(MeterNames.MESSAGES_OUT));
        assertEquals(1, counter(MeterNames.BATCHES_OUT));
        assertEquals(1, counter(MeterNames.FRAMES_REJECTED, MeterNames.CODE, "invalid_json"));
    }

    @Test
    void resumesCountReplayedMessagesAndGaps() {
        metrics.resumed(3, true);
        metrics.resumed(0, false);
        assertEquals(2, counter(MeterNames.RESUMES));
        assertEquals(3, counter(MeterNames.RESUME_REPLAYED));
        assertEquals(1, counter(MeterNames.RESUME_GAPS));
    }

    @Test
    void sessionStartIsTimedByKind() {
        metrics.sessionStarted(StartKind.COLD, Duration.ofMillis(1500));
        var cold = registry.get(MeterNames.SESSION_START)
                .tags(MeterNames.START, "cold")
                .timer();
        assertEquals(1, cold.count());
        assertEquals(1500, cold.totalTime(TimeUnit.MILLISECONDS), 0.001);
        assertEquals(
                0,
                registry.get(MeterNames.SESSION_START)
                        .tags(MeterNames.START, "warm")
                        .timer()
                        .count());
    }

    @Test
    void endsRestartsAndFirstEvents() {
        metrics.sessionEnded("idle_timeout");
        metrics.workerRestarted(RestartCause.RSS_HARD);
        metrics.turnFirstEvent(Duration.ofMillis(20));
        assertEquals(1, counter(MeterNames.SESSIONS_ENDED, MeterNames.REASON, "idle_timeout"));
        assertEquals(1, counter(MeterNames.WORKER_RESTARTS, MeterNames.REASON, "rss_hard"));
        assertEquals(0, counter(MeterNames.WORKER_RESTARTS, MeterNames.REASON, "crash"));
        assertEquals(1, registry.get(MeterNames.TURN_FIRST_EVENT).timer().count());
    }

    @Test
    void hibernationsAndWakes() {
        metrics.sessionHibernated();
        metrics.sessionHibernated();
        metrics.sessionWoke(Duration.ofMillis(300));
        assertEquals(2, counter(MeterNames.SESSIONS_HIBERNATED));
        assertEquals(1, registry.get(MeterNames.SESSION_WAKE).timer().count());
    }

    @Test
    void rssKeepsTheLastRound() {
        metrics.workerRss(2, 300, 200);
        metrics.workerRss(1, 100, 100);
        assertEquals(100, gauge(MeterNames.WORKERS_RSS));
        assertEquals(100, gauge(MeterNames.WORKER_RSS_MAX));
    }

    @Test
    void diskWarningsKillsAndTheLastRound() {
        metrics.diskWarning();
        metrics.workerRestarted(RestartCause.DISK_HARD);
        metrics.workerDisk(3, 500, 3000);
        metrics.workerDisk(1, 100, 40);
        assertEquals(1, counter(MeterNames.WORKER_DISK_WARNINGS));
        assertEquals(1, counter(MeterNames.WORKER_RESTARTS, MeterNames.REASON, "disk_hard"));
        assertEquals(100, gauge(MeterNames.WORKER_DISK_MAX));
        assertEquals(40, gauge(MeterNames.WORKER_DISK_ENTRIES));
    }

    @Test
    void sessionGaugesSampleTheCensusAtReadTime() {
        AtomicReference<SessionCensus> census = new AtomicReference<>(SessionCensus.empty());
        metrics.bindSessions(census::get);
        assertEquals(0, gauge(MeterNames.SESSIONS, MeterNames.STATE, "idle"));
        census.set(new SessionCensus(Map.of(SessionState.IDLE, 2, SessionState.PROCESSING, 1), 2, 1, 7, 700, 1));
        assertEquals(2, gauge(MeterNames.SESSIONS, MeterNames.STATE, "idle"));
        assertEquals(1, gauge(MeterNames.SESSIONS, MeterNames.STATE, "processing"));
        assertEquals(0, gauge(MeterNames.SESSIONS, MeterNames.STATE, "preparing"));
        assertNull(
                registry.find(MeterNames.SESSIONS)
                        .tags(MeterNames.STATE, "ended")
                        .gauge(),
                "ended is always 0");
        assertEquals(2, gauge(MeterNames.SESSIONS_ATTACHED));
        assertEquals(1, gauge(MeterNames.SESSIONS_DETACHED));
        assertEquals(7, gauge(MeterNames.REPLAY_BUFFER_MESSAGES));
        assertEquals(700, gauge(MeterNames.REPLAY_BUFFER_BYTES));
        assertEquals(1, gauge(MeterNames.SESSIONS_STORE_AWAY));
    }

    @Test
    void takeOversAreTimedByOutcomeAndSessionsThatLeftAreCountedByReason() {
        metrics.sessionTakenOver(MeterNames.TAKEOVER_ADOPTED, Duration.ofMillis(120));
        metrics.sessionTakenOver(MeterNames.TAKEOVER_ADOPTED, Duration.ofMillis(80));
        metrics.sessionTakenOver(MeterNames.TAKEOVER_NOT_FOUND, Duration.ofMillis(3));
        metrics.sessionTakenOver("not an outcome", Duration.ofMillis(3));
        Timer adopted = registry.get(MeterNames.SESSION_TAKEOVERS)
                .tags(MeterNames.OUTCOME, "adopted")
                .timer();
        assertEquals(2, adopted.count());
        assertEquals(200, adopted.totalTime(TimeUnit.MILLISECONDS), 0.001);
        assertEquals(
                1,
                registry.get(MeterNames.SESSION_TAKEOVERS)
                        .tags(MeterNames.OUTCOME, "not_found")
                        .timer()
                        .count());
        assertNull(
                registry.find(MeterNames.SESSION_TAKEOVERS)
                        .tags(MeterNames.OUTCOME, "not an outcome")
                        .timer(),
                "tags come from a fixed set");
        metrics.sessionLeft(MeterNames.LEFT_HANDOFF);
        metrics.sessionLeft(MeterNames.LEFT_LOST);
        metrics.sessionLeft(MeterNames.LEFT_LOST);
        assertEquals(
                1,
                registry.get(MeterNames.SESSIONS_LEFT)
                        .tags(MeterNames.REASON, "handoff")
                        .counter()
                        .count());
        assertEquals(
                2,
                registry.get(MeterNames.SESSIONS_LEFT)
                        .tags(MeterNames.REASON, "lost")
                        .counter()
                        .count());
        assertEquals(
                0,
                registry.get(MeterNames.SESSIONS_LEFT)
                        .tags(MeterNames.REASON, "released")
                        .counter()
                        .count());
    }

    @Test
    void poolMetersReadThePoolStatus() {
        AtomicReference<PoolStatus> status = new AtomicReference<>(pool(1, 2, 5, 9, 4, BreakerState.HALF_OPEN));
        metrics.bindPool(status::get);
        assertEquals(1, gauge(MeterNames.POOL_WORKERS, MeterNames.STATE, "warm"));
        assertEquals(2, gauge(MeterNames.POOL_WORKERS, MeterNames.STATE, "starting"));
        assertEquals(5, gauge(MeterNames.POOL_WORKERS, MeterNames.STATE, "live"));
        assertEquals(9, registry.get(MeterNames.POOL_SPAWNS).functionCounter().count());
        assertEquals(
                4,
                registry.get(MeterNames.POOL_SPAWN_FAILURES).functionCounter().count());
        assertEquals(MeterNames.BREAKER_HALF_OPEN, gauge(MeterNames.POOL_BREAKER_STATE));
        status.set(pool(0, 0, 0, 9, 4, BreakerState.OPEN));
        assertEquals(MeterNames.BREAKER_OPEN, gauge(MeterNames.POOL_BREAKER_STATE));
    }

    /**
     * Every event of {@link GatewayMetrics} is a default method that does nothing (what
     * {@link GatewayMetrics#NONE} is made of), so an event added without a meter would compile and
     * silently count nothing.
     */
    @Test
    void everyEventHasAMeter() throws NoSuchMethodException {
        for (Method event : GatewayMetrics.class.getMethods()) {
            if (!Modifier.isStatic(event.getModifiers())) {
                Method implementation = MicrometerMetrics.class.getMethod(event.getName(), event.getParameterTypes());
                assertEquals(
                        MicrometerMetrics.class, implementation.getDeclaringClass(), event.getName() + " has no meter");
            }
        }
    }

    private static PoolStatus pool(
            int warm, int starting, int live, long spawned, long failures, BreakerState breaker) {
        return new PoolStatus(warm, starting, live, 1, 8, spawned, failures, 0, breaker, Duration.ZERO, null, false);
    }
}
