package dev.tether.gateway.metrics;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.UpgradeRefusal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * {@link GatewayMetrics} over a Micrometer {@link MeterRegistry}, with the names of {@link
 * MeterNames}.
 *
 * <p>Thread-safe: counters and timers are Micrometer's (lock-free), the few gauges it keeps itself
 * are atomics. Sampled state is bound with {@link #bindSessions} and {@link #bindPool}: the gauges
 * call those suppliers on the scraping thread, so they must be thread-safe snapshots (the registry
 * and {@link PoolStatus} are), never reads of loop-confined session fields.
 */
public final class MicrometerMetrics implements GatewayMetrics {

    /** Bounds of the percentile histograms: below and above these everything falls in one bucket. */
    private static final Duration HISTOGRAM_MIN = Duration.ofMillis(1);

    private static final Duration SESSION_START_MAX = Duration.ofMinutes(2);
    private static final Duration FIRST_EVENT_MAX = Duration.ofMinutes(1);
    private static final Duration TAKEOVER_MAX = Duration.ofMinutes(2);
    private static final List<String> TAKEOVER_OUTCOMES = List.of(
            MeterNames.TAKEOVER_ADOPTED,
            MeterNames.TAKEOVER_NOT_FOUND,
            MeterNames.TAKEOVER_ENDED,
            MeterNames.TAKEOVER_INCOMPATIBLE,
            MeterNames.TAKEOVER_FAILED);
    private static final List<String> LEFT_REASONS =
            List.of(MeterNames.LEFT_HANDOFF, MeterNames.LEFT_RELEASED, MeterNames.LEFT_LOST);

    private final MeterRegistry registry;
    private final Counter connectionsOpened;
    private final Counter connectionsCompressed;
    private final AtomicInteger connectionsActive = new AtomicInteger();
    private final AtomicInteger admissionWaiting = new AtomicInteger();
    private final Timer admissionWait;
    private final Counter admissionTimeouts;
    private final AtomicInteger viewersConnected = new AtomicInteger();
    private final Map<String, Counter> viewersCut = new HashMap<>();
    private final Map<UpgradeRefusal, Counter> refused = new EnumMap<>(UpgradeRefusal.class);
    private final Map<ConnectionGate.Outcome, Counter> connectionsRefused = new EnumMap<>(ConnectionGate.Outcome.class);
    private final Counter acceptFailures;
    private final Counter messagesIn;
    private final Counter messagesOut;
    private final Counter batchesOut;
    private final Counter resumes;
    private final Counter replayed;
    private final Counter gaps;
    private final Map<StartKind, Timer> sessionStart = new EnumMap<>(StartKind.class);
    private final Timer firstEvent;
    private final Counter hibernated;
    private final Timer woke;
    private final Map<RestartCause, Counter> restarts = new EnumMap<>(RestartCause.class);
    private final Map<String, Timer> takeovers = new HashMap<>();
    private final Map<String, Counter> left = new HashMap<>();
    private final Counter forkedFromCheckpoint;
    private final Counter forkedFresh;
    private final Map<String, Counter> stalled = new HashMap<>();
    private final Counter requestsOpened;
    private final Map<String, Counter> requestsResolved = new HashMap<>();
    private final AtomicLong rssTotal = new AtomicLong();
    private final AtomicLong rssMax = new AtomicLong();
    private final AtomicLong diskMax = new AtomicLong();
    private final AtomicLong diskEntries = new AtomicLong();
    private final Counter diskWarnings;
    /**
     * The suppliers bound to gauges and function counters. Micrometer holds those objects weakly,
     * and a method reference such as {@code registry::census} has no other owner: without this it
     * would be collected and the meters would read NaN.
     */
    private final List<Supplier<?>> bound = new CopyOnWriteArrayList<>();

    public MicrometerMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        connectionsOpened = Counter.builder(MeterNames.CONNECTIONS_OPENED)
                .description("WebSocket connections that completed the handshake")
                .register(registry);
        connectionsCompressed = Counter.builder(MeterNames.CONNECTIONS_COMPRESSED)
                .description("WebSocket connections that negotiated permessage-deflate")
                .register(registry);
        Gauge.builder(MeterNames.CONNECTIONS_ACTIVE, connectionsActive, AtomicInteger::get)
                .description("WebSocket connections open now")
                .register(registry);
        Gauge.builder(MeterNames.ADMISSION_WAITING, admissionWaiting, AtomicInteger::get)
                .description("wait=1 connections waiting for capacity now")
                .register(registry);
        admissionWait = Timer.builder(MeterNames.ADMISSION_WAIT)
                .description("How long admitted wait=1 connections waited for capacity")
                .publishPercentileHistogram()
                .register(registry);
        admissionTimeouts = Counter.builder(MeterNames.ADMISSION_TIMEOUTS)
                .description("wait=1 connections that waited longer than sessions.admission.max_wait")
                .register(registry);
        for (UpgradeRefusal refusal : UpgradeRefusal.values()) {
            refused.put(
                    refusal,
                    Counter.builder(MeterNames.UPGRADES_REFUSED)
                            .tag(MeterNames.REASON, refusal.code())
                            .description("Upgrade requests answered with an HTTP refusal")
                            .register(registry));
        }
        for (ConnectionGate.Outcome outcome : ConnectionGate.Outcome.values()) {
            connectionsRefused.put(
                    outcome,
                    Counter.builder(MeterNames.CONNECTIONS_REFUSED)
                            .tag(MeterNames.REASON, outcome.tag())
                            .description("Connections closed by the accept-time limits, by reason")
                            .register(registry));
        }
        acceptFailures = Counter.builder(MeterNames.ACCEPT_FAILURES)
                .description("Accepts that failed for want of a file descriptor")
                .register(registry);
        messagesIn = Counter.builder(MeterNames.MESSAGES_IN)
                .description("Client frames decoded into a message")
                .register(registry);
        messagesOut = Counter.builder(MeterNames.MESSAGES_OUT)
                .description("Server messages written to clients, live and replayed")
                .register(registry);
        batchesOut = Counter.builder(MeterNames.BATCHES_OUT)
                .description("Batch frames written to clients (several messages in one frame)")
                .register(registry);
        resumes = Counter.builder(MeterNames.RESUMES)
                .description("Resumes that attached to a live session")
                .register(registry);
        replayed = Counter.builder(MeterNames.RESUME_REPLAYED)
                .description("History messages re-sent by resumes")
                .register(registry);
        gaps = Counter.builder(MeterNames.RESUME_GAPS)
                .description("Resumes told replay_gap")
                .register(registry);
        for (StartKind kind : StartKind.values()) {
            sessionStart.put(
                    kind,
                    Timer.builder(MeterNames.SESSION_START)
                            .tag(MeterNames.START, kind.tag())
                            .description("From session creation to its first worker being ready")
                            .publishPercentileHistogram()
                            .minimumExpectedValue(HISTOGRAM_MIN)
                            .maximumExpectedValue(SESSION_START_MAX)
                            .register(registry));
        }
        firstEvent = Timer.builder(MeterNames.TURN_FIRST_EVENT)
                .description("From a message handed to the worker to its first event")
                .publishPercentileHistogram()
                .minimumExpectedValue(HISTOGRAM_MIN)
                .maximumExpectedValue(FIRST_EVENT_MAX)
                .register(registry);
        hibernated = Counter.builder(MeterNames.SESSIONS_HIBERNATED)
                .description("Sessions put to sleep without a worker (limits.hibernate_after)")
                .register(registry);
        woke = Timer.builder(MeterNames.SESSION_WAKE)
                .description("From the message that wakes a sleeping session to its new worker being ready")
                .publishPercentileHistogram()
                .minimumExpectedValue(HISTOGRAM_MIN)
                .maximumExpectedValue(SESSION_START_MAX)
                .register(registry);
        for (RestartCause cause : RestartCause.values()) {
            restarts.put(
                    cause,
                    Counter.builder(MeterNames.WORKER_RESTARTS)
                            .tag(MeterNames.REASON, cause.tag())
                            .description("Worker replacements triggered, by cause")
                            .register(registry));
        }
        for (String outcome : TAKEOVER_OUTCOMES) {
            takeovers.put(
                    outcome,
                    Timer.builder(MeterNames.SESSION_TAKEOVERS)
                            .tag(MeterNames.OUTCOME, outcome)
                            .description(
                                    "From a resume asking for a session in the shared store to taking it over, by outcome")
                            .publishPercentileHistogram()
                            .minimumExpectedValue(HISTOGRAM_MIN)
                            .maximumExpectedValue(TAKEOVER_MAX)
                            .register(registry));
        }
        forkedFromCheckpoint = forked(registry, "yes");
        forkedFresh = forked(registry, "no");
        for (String reason : LEFT_REASONS) {
            left.put(
                    reason,
                    Counter.builder(MeterNames.SESSIONS_LEFT)
                            .tag(MeterNames.REASON, reason)
                            .description(
                                    "Sessions that left this node alive: handed over, released, or lost to another node")
                            .register(registry));
        }
        Gauge.builder(MeterNames.VIEWERS_CONNECTED, viewersConnected, AtomicInteger::get)
                .description("Read-only viewer connections attached to sessions now")
                .register(registry);
        for (String reason :
                List.of(MeterNames.VIEWER_CUT_SLOW, MeterNames.VIEWER_CUT_ENDED, MeterNames.VIEWER_CUT_MOVED)) {
            viewersCut.put(
                    reason,
                    Counter.builder(MeterNames.VIEWERS_CUT)
                            .tag(MeterNames.REASON, reason)
                            .description(
                                    "Viewers the gateway disconnected: slow consumer, session ended, session left this node")
                            .register(registry));
        }
        for (String stage : List.of("stalled", "interrupt", "restart")) {
            stalled.put(
                    stage,
                    Counter.builder(MeterNames.TURNS_STALLED)
                            .tag(MeterNames.STAGE, stage)
                            .description(
                                    "Turns whose worker stayed silent for turn_stall_timeout (stalled), twice (interrupt), "
                                            + "three times (restart)")
                            .register(registry));
        }
        requestsOpened = Counter.builder(MeterNames.REQUESTS_OPENED)
                .description("Workers' requests to the user (approvals, questions) shown to clients")
                .register(registry);
        for (String outcome : List.of("answered", "timeout", "cancelled", "refused")) {
            requestsResolved.put(
                    outcome,
                    Counter.builder(MeterNames.REQUESTS_RESOLVED)
                            .tag(MeterNames.OUTCOME, outcome)
                            .description(
                                    "Workers' requests resolved: answered, timed out, cancelled with their turn or worker, "
                                            + "or refused over limits.max_pending_requests")
                            .register(registry));
        }
        Gauge.builder(MeterNames.WORKERS_RSS, rssTotal, AtomicLong::get)
                .baseUnit(BaseUnits.BYTES)
                .description("RSS of every session's worker process tree, summed, at the last sample")
                .register(registry);
        Gauge.builder(MeterNames.WORKER_RSS_MAX, rssMax, AtomicLong::get)
                .baseUnit(BaseUnits.BYTES)
                .description("The largest worker process tree RSS at the last sample")
                .register(registry);
        diskWarnings = Counter.builder(MeterNames.WORKER_DISK_WARNINGS)
                .description("Workers' directories over worker.process.disk_soft_limit")
                .register(registry);
        Gauge.builder(MeterNames.WORKER_DISK_MAX, diskMax, AtomicLong::get)
                .baseUnit(BaseUnits.BYTES)
                .description("The largest finished measurement of a worker's working directory")
                .register(registry);
        Gauge.builder(MeterNames.WORKER_DISK_ENTRIES, diskEntries, AtomicLong::get)
                .description("Directory entries the last disk measurement round visited")
                .register(registry);
    }

    /** The registry the meters live in. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Registers the session gauges over {@code census}, a thread-safe snapshot of the live sessions
     * called once per gauge at each scrape.
     */
    public MicrometerMetrics bindSessions(Supplier<SessionCensus> census) {
        bound.add(requireNonNull(census, "census"));
        for (SessionState state : SessionState.values()) {
            if (state == SessionState.ENDED) {
                continue; // ended sessions leave the registry at once: always 0
            }
            gauge(
                    MeterNames.SESSIONS,
                    census,
                    c -> c.count(state),
                    "Live sessions by state",
                    MeterNames.STATE,
                    state.wire());
        }
        gauge(MeterNames.SESSIONS_ATTACHED, census, SessionCensus::attached, "Live sessions with a connection");
        gauge(MeterNames.SESSIONS_DETACHED, census, SessionCensus::detached, "Live sessions without a connection");
        gauge(
                MeterNames.SESSIONS_STORE_AWAY,
                census,
                SessionCensus::storeAway,
                "Live sessions showing output without waiting for the session store, which does not answer");
        gauge(
                MeterNames.REPLAY_BUFFER_MESSAGES,
                census,
                SessionCensus::replayMessages,
                "History messages kept for replay, all sessions");
        Gauge.builder(MeterNames.REPLAY_BUFFER_BYTES, census, c -> c.get().replayBytes())
                .baseUnit(BaseUnits.BYTES)
                .description("Encoded bytes kept for replay, all sessions")
                .register(registry);
        return this;
    }

    /** Registers the worker pool gauges and counters over {@code status} (a thread-safe snapshot). */
    public MicrometerMetrics bindPool(Supplier<PoolStatus> status) {
        bound.add(requireNonNull(status, "status"));
        gauge(
                MeterNames.POOL_WORKERS,
                status,
                PoolStatus::warm,
                "Pool workers by state",
                MeterNames.STATE,
                MeterNames.POOL_WARM);
        gauge(
                MeterNames.POOL_WORKERS,
                status,
                PoolStatus::starting,
                "Pool workers by state",
                MeterNames.STATE,
                MeterNames.POOL_STARTING);
        gauge(
                MeterNames.POOL_WORKERS,
                status,
                PoolStatus::live,
                "Pool workers by state",
                MeterNames.STATE,
                MeterNames.POOL_LIVE);
        FunctionCounter.builder(MeterNames.POOL_SPAWNS, status, s -> s.get().spawned())
                .description("Worker launches attempted")
                .register(registry);
        FunctionCounter.builder(
                        MeterNames.POOL_SPAWN_FAILURES, status, s -> s.get().spawnFailures())
                .description("Worker launches that failed")
                .register(registry);
        gauge(
                MeterNames.POOL_BREAKER_STATE,
                status,
                s -> breaker(s),
                "Spawn circuit breaker: 0 closed, 1 open, 2 half-open");
        return this;
    }

    /** Registers the JVM and process basics: memory, threads, class loading, CPU, uptime. */
    public MicrometerMetrics bindJvm() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            ByteBufAllocatorMetric netty = provider.metric();
            Gauge.builder(MeterNames.NETTY_MEMORY, netty, ByteBufAllocatorMetric::usedDirectMemory)
                    .tag(MeterNames.AREA, "direct")
                    .baseUnit(BaseUnits.BYTES)
                    .description("Memory Netty's buffer allocator holds")
                    .register(registry);
            Gauge.builder(MeterNames.NETTY_MEMORY, netty, ByteBufAllocatorMetric::usedHeapMemory)
                    .tag(MeterNames.AREA, "heap")
                    .baseUnit(BaseUnits.BYTES)
                    .description("Memory Netty's buffer allocator holds")
                    .register(registry);
        }
        return this;
    }

    private static Counter forked(MeterRegistry registry, String fromCheckpoint) {
        return Counter.builder(MeterNames.SESSIONS_FORKED)
                .tag(MeterNames.CHECKPOINT, fromCheckpoint)
                .description("Sessions created as forks of another session, from its checkpoint or fresh")
                .register(registry);
    }

    private static int breaker(PoolStatus status) {
        return switch (status.breaker()) {
            case CLOSED -> MeterNames.BREAKER_CLOSED;
            case OPEN -> MeterNames.BREAKER_OPEN;
            case HALF_OPEN -> MeterNames.BREAKER_HALF_OPEN;
        };
    }

    private <T> void gauge(
            String name, Supplier<T> source, ToDoubleFunction<T> value, String description, String... tags) {
        Gauge.builder(name, source, s -> value.applyAsDouble(s.get()))
                .tags(tags)
                .description(description)
                .register(registry);
    }

    @Override
    public void connectionOpened() {
        connectionsOpened.increment();
        connectionsActive.incrementAndGet();
    }

    @Override
    public void admissionWaiting(int delta) {
        admissionWaiting.addAndGet(delta);
    }

    @Override
    public void admissionWaited(Duration waited) {
        admissionWait.record(waited);
    }

    @Override
    public void admissionTimedOut() {
        admissionTimeouts.increment();
    }

    @Override
    public void connectionCompressed() {
        connectionsCompressed.increment();
    }

    @Override
    public void connectionClosed() {
        connectionsActive.decrementAndGet();
    }

    @Override
    public void upgradeRefused(UpgradeRefusal refusal) {
        refused.get(refusal).increment();
    }

    @Override
    public void connectionRefused(ConnectionGate.Outcome outcome) {
        connectionsRefused.get(outcome).increment();
    }

    @Override
    public void acceptFailed() {
        acceptFailures.increment();
    }

    /** Registers the gauge of connections not yet upgraded over {@code gate}. */
    public MicrometerMetrics bindConnections(ConnectionGate gate) {
        requireNonNull(gate, "gate");
        Gauge.builder(MeterNames.CONNECTIONS_PENDING, gate, ConnectionGate::pending)
                .description("Connections accepted that have not completed a WebSocket upgrade")
                .strongReference(true)
                .register(registry);
        return this;
    }

    @Override
    public void authFailed(String stage, String reason) {
        Counter.builder(MeterNames.AUTH_FAILURES)
                .tag(MeterNames.STAGE, stage)
                .tag(MeterNames.REASON, reason.toLowerCase(Locale.ROOT))
                .description("Tokens refused, by stage and reason")
                .register(registry)
                .increment();
    }

    @Override
    public void messageIn() {
        messagesIn.increment();
    }

    @Override
    public void messageOut() {
        messagesOut.increment();
    }

    @Override
    public void batchOut() {
        batchesOut.increment();
    }

    @Override
    public void frameRejected(ErrorCode code) {
        Counter.builder(MeterNames.FRAMES_REJECTED)
                .tag(MeterNames.CODE, code.wire())
                .description("Client frames refused before their session")
                .register(registry)
                .increment();
    }

    @Override
    public void resumed(int replayedMessages, boolean gap) {
        resumes.increment();
        replayed.increment(replayedMessages);
        if (gap) {
            gaps.increment();
        }
    }

    @Override
    public void sessionStarted(StartKind kind, Duration elapsed) {
        sessionStart.get(kind).record(elapsed);
    }

    @Override
    public void sessionEnded(String reason) {
        Counter.builder(MeterNames.SESSIONS_ENDED)
                .tag(MeterNames.REASON, reason)
                .description("Sessions ended, by reason")
                .register(registry)
                .increment();
    }

    @Override
    public void sessionTakenOver(String outcome, Duration elapsed) {
        Timer timer = takeovers.get(outcome);
        if (timer != null) {
            timer.record(elapsed);
        }
    }

    @Override
    public void sessionForked(boolean fromCheckpoint) {
        (fromCheckpoint ? forkedFromCheckpoint : forkedFresh).increment();
    }

    @Override
    public void sessionLeft(String reason) {
        Counter counter = left.get(reason);
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void viewerAttached() {
        viewersConnected.incrementAndGet();
    }

    @Override
    public void viewerDetached(String cutReason) {
        viewersConnected.decrementAndGet();
        Counter counter = cutReason == null ? null : viewersCut.get(cutReason);
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void turnStalled(String stage) {
        Counter counter = stalled.get(stage);
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void requestOpened() {
        requestsOpened.increment();
    }

    @Override
    public void requestResolved(String outcome) {
        Counter counter = requestsResolved.get(outcome);
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void turnFirstEvent(Duration elapsed) {
        firstEvent.record(elapsed);
    }

    @Override
    public void sessionHibernated() {
        hibernated.increment();
    }

    @Override
    public void sessionWoke(Duration elapsed) {
        woke.record(elapsed);
    }

    @Override
    public void workerRestarted(RestartCause cause) {
        restarts.get(cause).increment();
    }

    @Override
    public void workerRss(int workers, long totalBytes, long maxBytes) {
        rssTotal.set(totalBytes);
        rssMax.set(maxBytes);
    }

    @Override
    public void diskWarning() {
        diskWarnings.increment();
    }

    @Override
    public void workerDisk(int workers, long maxBytes, long entries) {
        diskMax.set(maxBytes);
        diskEntries.set(entries);
    }
}
