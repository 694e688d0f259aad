package dev.tether.gateway.metrics;

/**
 * Every meter name and tag key the gateway publishes, in one place (as reactor-netty's {@code
 * Metrics} does). Names are Micrometer's dotted form; the Prometheus registry turns dots into
 * underscores, adds {@code _total} to counters, {@code _seconds} to timers and the base unit to
 * gauges that have one ({@code tether.replay.buffer.bytes} stays {@code tether_replay_buffer_bytes}).
 * docs/operations.md lists them as Prometheus shows them; keep the two in step.
 */
public final class MeterNames {

    private MeterNames() {}

    /** The common prefix of every gateway meter. */
    public static final String PREFIX = "tether.";

    // ---- connections and upgrades ----

    /** Counter: WebSocket connections that completed the handshake. */
    public static final String CONNECTIONS_OPENED = PREFIX + "connections.opened";
    /** Counter: WebSocket connections that completed the handshake with permessage-deflate negotiated. */
    public static final String CONNECTIONS_COMPRESSED = PREFIX + "connections.compressed";
    /** Gauge: WebSocket connections open now. */
    public static final String CONNECTIONS_ACTIVE = PREFIX + "connections.active";

    public static final String ADMISSION_WAITING = PREFIX + "admission.waiting";
    public static final String ADMISSION_WAIT = PREFIX + "admission.wait";
    public static final String ADMISSION_TIMEOUTS = PREFIX + "admission.timeouts";
    /** Counter, tag {@link #REASON} (the refusal's code, e.g. {@code unauthorized}): upgrades answered with an HTTP refusal. */
    public static final String UPGRADES_REFUSED = PREFIX + "upgrades.refused";
    /** Counter: connections closed by the accept-time limits, by {@code reason} (address_limit, pending_evicted, fd_exhausted). */
    public static final String CONNECTIONS_REFUSED = PREFIX + "connections.refused";
    /** Gauge: connections accepted that have not completed a WebSocket upgrade. */
    public static final String CONNECTIONS_PENDING = PREFIX + "connections.pending";
    /** Counter: accepts that failed because the process had no file descriptor left. */
    public static final String ACCEPT_FAILURES = PREFIX + "accept.failures";
    /** Counter, tags {@link #STAGE} and {@link #REASON}: tokens refused. */
    public static final String AUTH_FAILURES = PREFIX + "auth.failures";

    // ---- frames ----

    /** Counter: client frames decoded into a message. */
    public static final String MESSAGES_IN = PREFIX + "messages.in";
    /** Counter: server messages written to clients (live and replayed). */
    public static final String MESSAGES_OUT = PREFIX + "messages.out";
    /** Counter: {@code batch} frames written to clients (contract 8.4); their messages count in {@link #MESSAGES_OUT}. */
    public static final String BATCHES_OUT = PREFIX + "batches.out";
    /** Counter, tag {@link #CODE}: client frames refused before the session (invalid JSON, too large...). */
    public static final String FRAMES_REJECTED = PREFIX + "frames.rejected";

    // ---- sessions ----

    /** Gauge, tag {@link #STATE}: live sessions by state. */
    public static final String SESSIONS = PREFIX + "sessions";
    /** Gauge: live sessions with a connection attached. */
    public static final String SESSIONS_ATTACHED = PREFIX + "sessions.attached";
    /** Gauge: live sessions without a connection (within their reconnect window). */
    public static final String SESSIONS_DETACHED = PREFIX + "sessions.detached";
    /** Timer, tag {@link #START}: from session creation to its first worker being ready. */
    public static final String SESSION_START = PREFIX + "session.start";
    /** Counter, tag {@link #REASON} (the end reason on the wire): sessions ended. */
    public static final String SESSIONS_ENDED = PREFIX + "sessions.ended";
    /** Counter, tag {@link #STAGE}: turns whose worker stayed silent (stalled, interrupt, restart). */
    public static final String TURNS_STALLED = PREFIX + "turns.stalled";
    /** Workers' requests to the user shown to clients (contract 7.3). */
    public static final String REQUESTS_OPENED = PREFIX + "requests.opened";
    /** Workers' requests resolved, by {@code outcome}: answered, timeout, cancelled, or refused (over the limit). */
    public static final String REQUESTS_RESOLVED = PREFIX + "requests.resolved";
    /** Timer: from a message being handed to the worker to the worker's first event for it. */
    public static final String TURN_FIRST_EVENT = PREFIX + "turn.first.event";
    /**
     * Counter: sessions put to sleep without a worker (contract 1.2, 8.9). Those asleep now are
     * {@link #SESSIONS} with state {@code hibernated}.
     */
    public static final String SESSIONS_HIBERNATED = PREFIX + "sessions.hibernated";
    /** Timer: from the message that wakes a sleeping session to its new worker being ready. */
    public static final String SESSION_WAKE = PREFIX + "session.wake";

    // ---- viewers (contract 7.4) ----

    /** Gauge: read-only viewer connections attached to sessions now (owners' connections not counted). */
    public static final String VIEWERS_CONNECTED = PREFIX + "viewers.connected";
    /** Counter, tag {@link #REASON} ({@code slow}, {@code ended}, {@code moved}): viewers the gateway disconnected. */
    public static final String VIEWERS_CUT = PREFIX + "viewers.cut";

    // ---- the shared session store (sessions.store: redis) ----

    /**
     * Timer, tag {@link #OUTCOME}: from a resume asking this node to take a session over from the
     * store to the outcome (a hand-off waits for the owner's running turn, at most handoff_timeout).
     */
    public static final String SESSION_TAKEOVERS = PREFIX + "session.takeovers";
    /** Counter, tag {@link #REASON}: sessions that left this node alive (handed over, released, lost). */
    public static final String SESSIONS_LEFT = PREFIX + "sessions.left";
    /**
     * Counter, tag {@link #CHECKPOINT}: sessions created as forks ({@code fork=S}, contract 1.2, 8.2),
     * from a checkpoint of S or, when S had none, fresh.
     */
    public static final String SESSIONS_FORKED = PREFIX + "sessions.forked";
    /** Tag of {@link #SESSIONS_FORKED}: {@code yes} when the fork continues from a checkpoint, else {@code no}. */
    public static final String CHECKPOINT = "checkpoint";
    /** Gauge: live sessions showing output without waiting for the store, which does not answer. */
    public static final String SESSIONS_STORE_AWAY = PREFIX + "sessions.store.away";

    // ---- replay ----

    /** Gauge: history messages kept for replay, over all live sessions. */
    public static final String REPLAY_BUFFER_MESSAGES = PREFIX + "replay.buffer.messages";
    /** Gauge (bytes): encoded bytes kept for replay, over all live sessions. */
    public static final String REPLAY_BUFFER_BYTES = PREFIX + "replay.buffer.bytes";
    /** Counter: resumes that attached to a live session. */
    public static final String RESUMES = PREFIX + "resumes";
    /** Counter: history messages re-sent by resumes. */
    public static final String RESUME_REPLAYED = PREFIX + "resume.replayed.messages";
    /** Counter: resumes that were told {@code replay_gap} (history they asked for was gone). */
    public static final String RESUME_GAPS = PREFIX + "resume.gaps";

    // ---- workers ----

    /** Counter, tag {@link #REASON} ({@code crash}, {@code rss_soft}, {@code rss_hard}, {@code memory_limit}, {@code stalled}, {@code disk_hard}): worker replacements triggered. */
    public static final String WORKER_RESTARTS = PREFIX + "worker.restarts";
    /** Gauge (bytes): RSS of every session's worker process tree, summed, at the last sample. */
    public static final String WORKERS_RSS = PREFIX + "workers.rss";
    /** Gauge (bytes): the largest one worker process tree's RSS at the last sample. */
    public static final String WORKER_RSS_MAX = PREFIX + "worker.rss.max";
    /** Counter: workers' directories that passed {@code worker.process.disk_soft_limit}. */
    public static final String WORKER_DISK_WARNINGS = PREFIX + "worker.disk.warnings";
    /** Gauge (bytes): the largest finished measurement of a worker's working directory, at the last round. */
    public static final String WORKER_DISK_MAX = PREFIX + "worker.disk.max";
    /** Gauge: directory entries the last disk measurement round visited, all workers together. */
    public static final String WORKER_DISK_ENTRIES = PREFIX + "worker.disk.entries";

    // ---- memory ----

    /**
     * Gauge (bytes), tag {@link #AREA} ({@code direct}, {@code heap}): memory Netty's pooled buffer
     * allocator holds (arenas' chunks, whether or not in use), which the JVM's buffer pools do not count.
     */
    public static final String NETTY_MEMORY = PREFIX + "netty.memory";

    // ---- pool ----

    /** Gauge, tag {@link #STATE} ({@code warm}, {@code starting}, {@code live}): pool workers. */
    public static final String POOL_WORKERS = PREFIX + "pool.workers";
    /** Function counter: worker launches attempted. */
    public static final String POOL_SPAWNS = PREFIX + "pool.spawns";
    /** Function counter: worker launches that failed. */
    public static final String POOL_SPAWN_FAILURES = PREFIX + "pool.spawn.failures";
    /** Gauge: the spawn circuit breaker, {@link #BREAKER_CLOSED}, {@link #BREAKER_OPEN} or {@link #BREAKER_HALF_OPEN}. */
    public static final String POOL_BREAKER_STATE = PREFIX + "pool.breaker.state";

    /** Values of {@link #POOL_BREAKER_STATE}. */
    public static final int BREAKER_CLOSED = 0;

    public static final int BREAKER_OPEN = 1;
    public static final int BREAKER_HALF_OPEN = 2;

    // ---- tag keys ----

    public static final String REASON = "reason";
    public static final String STAGE = "stage";
    public static final String STATE = "state";
    public static final String AREA = "area";
    public static final String START = "start";
    public static final String CODE = "code";
    public static final String OUTCOME = "outcome";

    // ---- tag values ----

    /** {@link #STAGE}: the token of an upgrade request. */
    public static final String STAGE_UPGRADE = "upgrade";
    /** {@link #STAGE}: the token of an {@code auth_refresh}. */
    public static final String STAGE_REFRESH = "refresh";
    /** {@link #REASON} of {@link #AUTH_FAILURES} when the upgrade carried no token at all. */
    public static final String AUTH_MISSING_TOKEN = "missing_token";
    /** {@link #REASON} of {@link #AUTH_FAILURES} when a refreshed token names another subject. */
    public static final String AUTH_WRONG_SUBJECT = "wrong_subject";
    /** {@link #OUTCOME}s of {@link #SESSION_TAKEOVERS}. */
    public static final String TAKEOVER_ADOPTED = "adopted";

    public static final String TAKEOVER_NOT_FOUND = "not_found";
    public static final String TAKEOVER_ENDED = "ended";
    public static final String TAKEOVER_INCOMPATIBLE = "incompatible";
    public static final String TAKEOVER_FAILED = "failed";
    /** {@link #REASON}s of {@link #SESSIONS_LEFT}. */
    public static final String LEFT_HANDOFF = "handoff";

    public static final String LEFT_RELEASED = "released";
    public static final String LEFT_LOST = "lost";
    /** {@link #REASON}s of {@link #VIEWERS_CUT}: over the slow-consumer limit, the session ended, it left this node. */
    public static final String VIEWER_CUT_SLOW = "slow";

    public static final String VIEWER_CUT_ENDED = "ended";
    public static final String VIEWER_CUT_MOVED = "moved";
    /** {@link #REASON} of {@link #AUTH_FAILURES} when a viewer's refreshed token no longer grants the view. */
    public static final String AUTH_NO_VIEW = "no_view";
    /** {@link #POOL_WORKERS} states. */
    public static final String POOL_WARM = "warm";

    public static final String POOL_STARTING = "starting";
    public static final String POOL_LIVE = "live";
}
