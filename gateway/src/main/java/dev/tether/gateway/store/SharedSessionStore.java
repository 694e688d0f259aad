package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.ForkSource;
import dev.tether.gateway.session.Restored;
import dev.tether.gateway.session.SessionStore;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.WireCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sessions.store: redis}: this node's side of the store the nodes share. It keeps this
 * node's lease (renewed every third of {@code sessions.redis.lease}), registers new sessions and
 * counts them per user across nodes, gives each session a {@link RedisJournal}, takes over sessions
 * other nodes had (asking a live owner to hand over, waiting at most {@code sessions.handoff_timeout}
 * plus the lease, then claiming), and passes on other nodes' requests to hand a session over.
 *
 * <p><b>Threading:</b> thread-safe. Lease renewals and the polling of a hand-off run on
 * {@code timers}; store replies arrive on Lettuce's threads; nothing here blocks a caller except
 * {@link #start} and {@link #close}.
 */
public final class SharedSessionStore implements SessionStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SharedSessionStore.class);
    /** How often a node waiting for a hand-off looks at the session's owner. */
    static final Duration HANDOFF_POLL = Duration.ofMillis(50);
    /**
     * Claims lost to another node before a resume gives up on adopting (each then re-reads the
     * owner); besides, a take-over gives up once {@code handoff_timeout} plus the lease has passed.
     */
    static final int MAX_CLAIM_ATTEMPTS = 100;
    /** The most seqs a node may have shown beyond its reservation (while the store was away) that a resume is believed. */
    static final long MAX_UNSTORED_SEQS = 1L << 32;
    /** How long a hand-off request for a session that is not (yet) here is tried again. */
    static final Duration HANDOFF_GRACE = Duration.ofSeconds(2);
    /** The epoch of a hand-off request from a node of an older release, which names none: any copy here goes. */
    private static final long ANY_EPOCH = -1;

    private final RedisSessionStore store;
    private final StatefulRedisPubSubConnection<String, String> channel;
    private final String node;
    private final SessionConfig sessions;
    private final Duration lease;
    private final Duration handoffTimeout;
    /** The longest a session can live: {@code limits.max_duration} and its grace, plus a reconnect window. */
    private final Duration maxLifetime;

    private final WireCodec codec;
    private final Clock clock;
    private final ScheduledExecutorService timers;
    private final ScheduledFuture<?> renewal;
    private volatile boolean reachable = true;
    private volatile NodeRequests requests = id -> false;

    /** What other nodes ask of this one, on its channel. */
    public interface NodeRequests {
        /** Hand session {@code id} over; false when it is not on this node. */
        boolean handOff(String id);
    }

    /** The journals of the sessions on this node, by session id: told when another node takes one. */
    private final ConcurrentHashMap<String, RedisJournal> journals = new ConcurrentHashMap<>();
    /**
     * Sessions other nodes said they took, with the epoch of their claim, for a minute: a copy
     * starting here just after the notice (its take-over raced the other one's) goes at once.
     */
    private final Cache<String, Long> taken = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofMinutes(1))
            .maximumSize(100_000)
            .build();
    /**
     * Nodes that asked this one to hand a session over, by session id, for a minute: told
     * {@code released} once it is, so they claim it without waiting for their next look.
     */
    private final Cache<String, String> requesters = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofMinutes(1))
            .maximumSize(100_000)
            .build();
    /** Sessions whose owner said it does not have them (restarted under the same id), for a minute. */
    private final Cache<String, Boolean> absent = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofMinutes(1))
            .maximumSize(100_000)
            .build();
    /** Take-overs of this node waiting for an owner to let go, by session id: completed to look now. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> wakers = new ConcurrentHashMap<>();
    /** Take-overs under way on this node, by session id. */
    private final ConcurrentHashMap<String, CompletableFuture<Adoption>> adopting = new ConcurrentHashMap<>();

    private SharedSessionStore(
            RedisSessionStore store,
            StatefulRedisPubSubConnection<String, String> channel,
            WireCodec codec,
            Clock clock,
            ScheduledExecutorService timers,
            String node,
            SessionConfig sessions,
            Duration lease,
            Duration handoffTimeout,
            Duration maxLifetime) {
        this.store = store;
        this.maxLifetime = maxLifetime;
        this.channel = channel;
        this.node = node;
        this.sessions = sessions;
        this.lease = lease;
        this.handoffTimeout = handoffTimeout;
        this.codec = codec;
        this.clock = clock;
        this.timers = timers;
        long every = Math.max(1, lease.toMillis() / 3);
        this.renewal = timers.scheduleAtFixedRate(this::renewLease, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Connects to the store at {@code uri}, takes this node's lease and listens for hand-off
     * requests. Blocks; for start-up. Fails when the store cannot be reached.
     */
    public static SharedSessionStore start(
            String uri,
            String node,
            SessionConfig sessions,
            Duration lease,
            Duration handoffTimeout,
            Duration maxLifetime,
            WireCodec codec,
            Clock clock,
            ScheduledExecutorService timers) {
        requireNonNull(node, "node");
        RedisSessionStore store = null;
        StatefulRedisPubSubConnection<String, String> requests = null;
        try {
            store = RedisSessionStore.connect(uri, Duration.ofSeconds(5));
            store.renewNode(node, lease).toCompletableFuture().get(10, TimeUnit.SECONDS);
            requests = store.connectPubSub();
            SharedSessionStore shared = new SharedSessionStore(
                    store, requests, codec, clock, timers, node, sessions, lease, handoffTimeout, maxLifetime);
            requests.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    shared.onNodeMessage(message);
                }
            });
            requests.sync().subscribe(StoreKeys.handoffChannel(node));
            return shared;
        } catch (Exception e) {
            if (requests != null) {
                requests.close();
            }
            if (store != null) {
                store.close();
            }
            throw new IllegalStateException(
                    "cannot reach the session store at " + RedisUris.redacted(uri) + ": " + e, e);
        }
    }

    /** Where other nodes' requests go (set once, at start-up). */
    public void onNodeRequests(NodeRequests handler) {
        this.requests = requireNonNull(handler, "handler");
    }

    private void onNodeMessage(String message) {
        if (message.startsWith(RedisSessionStore.TAKEN)) {
            String[] parts = message.substring(RedisSessionStore.TAKEN.length()).split(" ", 2);
            long epoch = Long.parseLong(parts[0]);
            taken.asMap().merge(parts[1], epoch, Math::max);
            RedisJournal journal = journals.get(parts[1]);
            if (journal != null) {
                journal.supersededAt(epoch);
            }
        } else if (message.startsWith(RedisSessionStore.HANDOFF)) {
            // "handoff <id> <requester> <epoch>"; a node of an older release sends no epoch, or
            // neither (then any copy here goes).
            String[] parts =
                    message.substring(RedisSessionStore.HANDOFF.length()).split(" ", 3);
            String requester = parts.length >= 2 ? parts[1] : null;
            long epoch = parts.length == 3 ? Long.parseLong(parts[2]) : ANY_EPOCH;
            if (requester != null) {
                requesters.put(parts[0], requester);
            }
            handOff(parts[0], epoch, System.nanoTime() + HANDOFF_GRACE.toNanos(), requester);
        } else if (message.startsWith(RedisSessionStore.RELEASED)) {
            wake(message.substring(RedisSessionStore.RELEASED.length()));
        } else if (message.startsWith(RedisSessionStore.ABSENT)) {
            String id = message.substring(RedisSessionStore.ABSENT.length());
            absent.put(id, Boolean.TRUE);
            wake(id);
        }
    }

    /** A take-over of {@code id} waiting for its owner looks at it now. */
    private void wake(String id) {
        CompletableFuture<Void> wake = wakers.get(id);
        if (wake != null) {
            wake.complete(null);
        }
    }

    /**
     * Hands {@code id} over if it is here. A request may come while this node is still taking the
     * session over itself (claimed, not yet started): it is tried again every {@link #HANDOFF_POLL}
     * while that take-over runs, and for {@link #HANDOFF_GRACE} after the request came.
     */
    private void handOff(String id, long epoch, long until, String requester) {
        RedisJournal copy = journals.get(id);
        if (copy != null && epoch != ANY_EPOCH && copy.epoch() > epoch) {
            // A request for an older claim than the copy here (retried past the take-over it was
            // meant for): it must not send away the session a client has just resumed here. A
            // requester still waiting sees the store move on and asks again.
            log.atInfo()
                    .addKeyValue("session", id)
                    .log("hand-off request for epoch {} ignored: this node holds epoch {}", epoch, copy.epoch());
            return;
        }
        // An older copy here than the claim asked for is leaving: the request waits for the newer one.
        boolean asked = epoch == ANY_EPOCH || (copy != null && copy.epoch() == epoch);
        if (asked && requests.handOff(id)) {
            return;
        }
        if (adopting.containsKey(id) || System.nanoTime() - until < 0) {
            Unwatched.schedule(
                    timers, () -> handOff(id, epoch, until, requester), HANDOFF_POLL.toMillis(), TimeUnit.MILLISECONDS);
        } else if (requester != null) {
            // Not here: this node was restarted under the same id (the store still names it, and its
            // lease is alive again), or the session left already. The requester claims it now
            // rather than after handoff_timeout plus the lease.
            requesters.invalidate(id);
            store.tellAbsent(requester, id);
        }
    }

    /** This node's id. */
    public String node() {
        return node;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public CompletionStage<Creation> create(String id, String subject, long tokenExpiresAt, EventExecutor executor) {
        long now = clock.millis();
        return store.create(id, subject, node, now, tokenExpiresAt, now + maxLifetime.toMillis())
                .thenCompose(created -> {
                    if (!created) {
                        throw new IllegalStateException("session id " + id + " is taken in the store");
                    }
                    return store.admit(subject, id, sessions.maxSessionsPerUser(), now);
                })
                .thenCompose(admitted -> admitted
                        ? CompletableFuture.completedFuture(true)
                        : endAbandoned(subject, now)
                                .thenCompose(ended -> ended == 0
                                        ? CompletableFuture.completedFuture(false)
                                        : store.admit(subject, id, sessions.maxSessionsPerUser(), now)))
                .thenCompose(admitted -> {
                    if (admitted) {
                        return CompletableFuture.<Creation>completedFuture(
                                new Creation.Created(journal(id, subject, new Fence(node, 1), executor, 0, 0)));
                    }
                    return store.discard(id, new Fence(node, 1)).thenApply(ignored -> new Creation.UserLimit());
                });
    }

    /**
     * Ends the sessions of {@code subject} that nobody will resume, so that they stop counting
     * against {@code max_sessions_per_user}: a session released by its node whose reconnect deadline
     * has passed, and a session whose node died (its lease is gone) and whose owner was last seen
     * longer than {@code reconnect_window} ago. Each is claimed first (so a resume racing it wins or
     * loses cleanly) and ended with {@code reconnect_window_expired}, as it would have ended on a live
     * node. Resolves to how many were ended.
     */
    private CompletionStage<Integer> endAbandoned(String subject, long now) {
        return store.sessionIdsOf(subject).thenCompose(ids -> {
            List<CompletableFuture<Boolean>> ended = new ArrayList<>(ids.size());
            for (String id : ids) {
                ended.add(store.read(id)
                        .thenCompose(found -> found.isPresent() && !found.get().ended()
                                ? endIfAbandoned(found.get(), now)
                                : CompletableFuture.completedFuture(false))
                        .toCompletableFuture());
            }
            return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new))
                    .thenApply(ignored ->
                            (int) ended.stream().filter(CompletableFuture::join).count());
        });
    }

    private CompletionStage<Boolean> endIfAbandoned(StoredSession stored, long now) {
        long window = sessions.reconnectWindow().toMillis();
        CompletionStage<Boolean> abandoned = stored.node().isEmpty()
                ? CompletableFuture.completedFuture(
                        stored.reconnectDeadlineMillis() > 0 && stored.reconnectDeadlineMillis() < now)
                : stored.seenAtMillis() + window >= now
                        ? CompletableFuture.completedFuture(false)
                        : store.nodeAlive(stored.node()).thenApply(alive -> !alive);
        return abandoned.thenCompose(gone -> !gone
                ? CompletableFuture.completedFuture(false)
                : store.claim(stored.id(), node, stored.node(), stored.epoch()).thenCompose(claim -> {
                    if (!(claim instanceof ClaimResult.Claimed claimed)) {
                        return CompletableFuture.completedFuture(false); // resumed, or ended, meanwhile
                    }
                    log.atInfo()
                            .addKeyValue("session", stored.id())
                            .log(
                                    "ending a session nobody resumed (node {}): " + "reconnect_window_expired",
                                    stored.node().isEmpty() ? "(released)" : stored.node());
                    return store.end(
                                    stored.id(),
                                    claimed.fence(),
                                    EndReason.RECONNECT_WINDOW_EXPIRED.wire(),
                                    sessions.tombstoneTtl())
                            .thenCompose(ignored -> store.forget(stored.subject(), stored.id()))
                            .thenApply(ignored -> true);
                }));
    }

    @Override
    public CompletionStage<Void> abandon(String id, String subject) {
        return store.discard(id, new Fence(node, 1))
                .exceptionally(error -> null)
                .thenCompose(ignored -> store.forget(subject, id));
    }

    @Override
    public CompletionStage<Optional<Location>> locate(String id) {
        return store.read(id)
                .thenApply(found -> found.map(stored ->
                        new Location(stored.subject(), stored.node(), stored.ended() ? stored.endReason() : null)));
    }

    /**
     * What a fork of session {@code id} starts from (contract 1.2, 8.2), read from its directory
     * entry without claiming it: the node that owns it, if any, is never asked anything, and nothing
     * of it changes. Its newest stored checkpoint is what the fork gets, with the seq it was taken at
     * (0 for an entry written before that was stored).
     */
    @Override
    public CompletionStage<ForkSource> forkSource(String id, String subject) {
        return store.read(id).thenApply(found -> {
            StoredSession stored = found.orElse(null);
            if (stored == null || !stored.subject().equals(subject)) {
                return new ForkSource.NotFound();
            }
            if (!store.format().readable(stored.format())) {
                return new ForkSource.Incompatible(stored.format());
            }
            if (stored.ended()) {
                return stored.endReason() == null
                        ? new ForkSource.NotFound()
                        : new ForkSource.Ended(stored.endReason());
            }
            if (stored.checkpoint() == null) {
                return new ForkSource.Found(null, null);
            }
            return new ForkSource.Found(
                    parse(stored.checkpoint()), stored.checkpointSeq() == null ? 0 : stored.checkpointSeq());
        });
    }

    @Override
    public CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor) {
        // Resumes of one session racing on this node share one take-over: the node claims it once.
        CompletableFuture<Adoption> mine = new CompletableFuture<>();
        CompletableFuture<Adoption> running = adopting.putIfAbsent(id, mine);
        if (running != null) {
            return running;
        }
        long deadline =
                System.nanoTime() + handoffTimeout.plus(lease).multipliedBy(2).toNanos();
        adopt(id, subject, lastSeq, executor, 1, deadline).whenComplete((adoption, error) -> {
            adopting.remove(id, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(adoption);
            }
        });
        return mine;
    }

    private CompletionStage<Adoption> adopt(
            String id, String subject, long lastSeq, EventExecutor executor, int attempt, long deadline) {
        return store.read(id).thenCompose(found -> {
            if (found.isEmpty() || !found.get().subject().equals(subject)) {
                return CompletableFuture.completedFuture(new Adoption.NotFound());
            }
            StoredSession stored = found.get();
            if (!store.format().readable(stored.format())) {
                return CompletableFuture.completedFuture(new Adoption.Incompatible(stored.format()));
            }
            if (stored.ended()) {
                return CompletableFuture.completedFuture(new Adoption.Ended(stored.endReason()));
            }
            return freeOwner(stored).thenCompose(free -> {
                if (!free.node().isEmpty() && free.epoch() != stored.epoch()) {
                    // Claimed by another node while this one waited: ask that one, from the start.
                    return again(attempt, deadline)
                            ? adopt(id, subject, lastSeq, executor, attempt + 1, deadline)
                            : CompletableFuture.failedFuture(new IllegalStateException("session " + id + " moved "
                                    + MAX_CLAIM_ATTEMPTS + " times while this node tried to take it over"));
                }
                return claimFrom(free, stored, id, subject, lastSeq, executor, attempt, deadline);
            });
        });
    }

    private static boolean again(int attempt, long deadline) {
        return attempt < MAX_CLAIM_ATTEMPTS && System.nanoTime() - deadline < 0;
    }

    private CompletionStage<Adoption> claimFrom(
            StoredSession free,
            StoredSession stored,
            String id,
            String subject,
            long lastSeq,
            EventExecutor executor,
            int attempt,
            long deadline) {
        {
            return store.claim(id, node, free.node(), free.epoch()).thenCompose(claim -> {
                if (claim instanceof ClaimResult.Claimed claimed) {
                    if (!free.node().isEmpty()) {
                        // An owner that did not let go (this node's own older copy too) drops it now.
                        store.tellTaken(free.node(), id, claimed.fence().epoch());
                    }
                    if (store.format().needsMigration(stored.format())) {
                        // An older format this node reads: rewritten in its own before it is used.
                        return store.migrate(id, claimed.fence(), stored.format())
                                .thenCompose(migrated -> load(stored, claimed.fence(), lastSeq, executor));
                    }
                    return load(stored, claimed.fence(), lastSeq, executor);
                }
                if (claim instanceof ClaimResult.Lost && again(attempt, deadline)) {
                    return adopt(id, subject, lastSeq, executor, attempt + 1, deadline);
                }
                // A pattern switch once the build is on Java 21 or later.
                Adoption outcome;
                if (claim instanceof ClaimResult.Ended ended) {
                    outcome = new Adoption.Ended(ended.reason());
                } else if (claim instanceof ClaimResult.Incompatible incompatible) {
                    outcome = new Adoption.Incompatible(incompatible.format());
                } else if (claim instanceof ClaimResult.NotFound) {
                    outcome = new Adoption.NotFound();
                } else {
                    throw new IllegalStateException("session " + id + " moved " + MAX_CLAIM_ATTEMPTS
                            + " times while this node tried to take it over");
                }
                return CompletableFuture.completedFuture(outcome);
            });
        }
    }

    /**
     * Where the session may be claimed from: at once when no node owns it, its owner's lease ran out,
     * or its owner is this node (restarted: it has nothing of it). A live owner is asked to hand it
     * over and is waited for (it releases the session once its running turn ends), at most
     * {@code handoff_timeout} plus the lease; then it is claimed anyway, which fences the owner.
     */
    private CompletionStage<StoredSession> freeOwner(StoredSession stored) {
        if (stored.node().isEmpty() || (stored.node().equals(node) && !journals.containsKey(stored.id()))) {
            // Released, or this node's own from before a restart: nothing of it runs anywhere.
            return CompletableFuture.completedFuture(stored);
        }
        if (stored.node().equals(node)) {
            // This node's copy is still letting it go (a hand-off under way): wait for that.
            CompletableFuture<StoredSession> free = new CompletableFuture<>();
            poll(stored, System.nanoTime() + handoffTimeout.plus(lease).toNanos(), free);
            return free;
        }
        return store.nodeAlive(stored.node()).thenCompose(alive -> {
            if (!alive) {
                log.atInfo()
                        .addKeyValue("session", stored.id())
                        .log("taking over from node {}: its lease ran out", stored.node());
                return CompletableFuture.completedFuture(stored);
            }
            log.atInfo()
                    .addKeyValue("session", stored.id())
                    .log("asking node {} to hand the session over", stored.node());
            CompletableFuture<StoredSession> free = new CompletableFuture<>();
            absent.invalidate(stored.id()); // only an answer to this request counts
            store.requestHandoff(stored.node(), stored.id(), node, stored.epoch())
                    .whenComplete((receivers, error) -> {
                        long deadline =
                                System.nanoTime() + handoffTimeout.plus(lease).toNanos();
                        poll(stored, deadline, free);
                    });
            return free;
        });
    }

    /**
     * Looks at the session's owner every {@link #HANDOFF_POLL}, or at once when the owner says it
     * released it, until it is free to claim ({@code free} completes) or the deadline passes.
     */
    private void poll(StoredSession asked, long deadline, CompletableFuture<StoredSession> free) {
        CompletableFuture<Void> wake = new CompletableFuture<>();
        wakers.put(asked.id(), wake);
        ScheduledFuture<?> tick =
                timers.schedule(() -> wake.complete(null), HANDOFF_POLL.toMillis(), TimeUnit.MILLISECONDS);
        Unwatched.whenComplete(
                wake.thenCompose(ignored -> {
                            tick.cancel(false);
                            wakers.remove(asked.id(), wake);
                            return store.read(asked.id());
                        })
                        .thenCompose(now -> {
                            if (now.isEmpty()
                                    || now.get().node().isEmpty()
                                    || now.get().epoch() != asked.epoch()
                                    || !now.get().node().equals(asked.node())) {
                                return CompletableFuture.completedFuture(now.orElse(asked));
                            }
                            if (absent.asMap().remove(asked.id()) != null) {
                                log.atInfo()
                                        .addKeyValue("session", asked.id())
                                        .log(
                                                "node {} does not have the session (restarted): " + "taking it",
                                                asked.node());
                                return CompletableFuture.completedFuture(now.get());
                            }
                            if (System.nanoTime() - deadline > 0) {
                                log.atWarn()
                                        .addKeyValue("session", asked.id())
                                        .log(
                                                "node {} did not hand the session over in {}: " + "taking it",
                                                asked.node(),
                                                handoffTimeout.plus(lease));
                                return CompletableFuture.completedFuture(now.get());
                            }
                            return store.nodeAlive(asked.node()).thenApply(alive -> alive ? null : now.get());
                        }),
                (ready, error) -> {
                    if (error != null) {
                        free.completeExceptionally(error);
                    } else if (ready != null) {
                        free.complete(ready);
                    } else {
                        poll(asked, deadline, free);
                    }
                });
    }

    /** Reads what the claimed session needs to continue here. */
    private CompletionStage<Adoption> load(StoredSession before, Fence fence, long lastSeq, EventExecutor executor) {
        String id = before.id();
        CompletableFuture<Optional<StoredSession>> directory = store.read(id).toCompletableFuture();
        CompletableFuture<List<ReplayBuffer.Entry>> log = store.logAfter(id, 0).toCompletableFuture();
        CompletableFuture<List<byte[]>> ids = store.messageIds(id).toCompletableFuture();
        CompletableFuture<List<byte[]>> queue = store.queue(id).toCompletableFuture();
        return CompletableFuture.allOf(directory, log, ids, queue).thenApply(ignored -> {
            StoredSession stored = directory
                    .join()
                    .orElseThrow(() -> new IllegalStateException(
                            "session " + id + " vanished from the store while this node took it over"));
            // Above every seq the last owner may have sent: its reservation, or what the client saw
            // of frames shown while the store was away (bounded: a last_seq beyond any such frame
            // is then refused as invalid_sequence when it attaches, and cannot run the seqs out).
            long reserved = Math.max(stored.newestSeq(), stored.reservedSeq());
            long newest = Math.max(reserved, Math.min(lastSeq, reserved + MAX_UNSTORED_SEQS));
            JsonNode checkpoint = stored.checkpoint() == null ? null : parse(stored.checkpoint());
            String lostTurn =
                    "processing".equals(stored.state()) && !stored.turn().isEmpty() ? stored.turn() : null;
            Restored restored = new Restored(
                    Instant.ofEpochMilli(stored.createdAtMillis()),
                    newest,
                    log.join(),
                    ids.join(),
                    messages(queue.join()),
                    checkpoint,
                    lostTurn,
                    before.node().isEmpty() ? "(released)" : before.node(),
                    stored.extensions(),
                    stored.checkpointSeq());
            return new Adoption.Adopted(
                    journal(id, stored.subject(), fence, executor, stored.newestSeq(), stored.reservedSeq()),
                    restored,
                    executor);
        });
    }

    private RedisJournal journal(
            String id, String subject, Fence fence, EventExecutor executor, long storedSeq, long reservedSeq) {
        return new RedisJournal(
                store,
                id,
                subject,
                fence,
                executor,
                codec,
                new RedisJournal.Limits(
                        sessions.replayMaxMessages(),
                        sessions.replayMaxBytes(),
                        sessions.maxTrackedMessageIds(),
                        sessions.tombstoneTtl(),
                        lease,
                        sessions.redis().batched(),
                        sessions.redis().unavailableAfter()),
                new RedisJournal.Directory() {
                    @Override
                    public void started(RedisJournal journal) {
                        journals.put(id, journal);
                        Long takenAt = taken.getIfPresent(id);
                        if (takenAt != null) {
                            journal.supersededAt(takenAt);
                        }
                    }

                    @Override
                    public void finished(RedisJournal journal) {
                        journals.remove(id, journal);
                        String requester = requesters.asMap().remove(id);
                        if (requester != null) {
                            store.tellReleased(requester, id); // released (or ended): it looks now
                        }
                        CompletableFuture<Void> wake = wakers.get(id);
                        if (wake != null) {
                            wake.complete(null); // a take-over here waited for this node's own copy
                        }
                    }
                },
                storedSeq,
                reservedSeq);
    }

    private JsonNode parse(String json) {
        try {
            return codec.mapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("a stored checkpoint is not JSON: " + e.getMessage(), e);
        }
    }

    private List<ClientMessage.Message> messages(List<byte[]> stored) {
        List<ClientMessage.Message> messages = new ArrayList<>(stored.size());
        for (byte[] raw : stored) {
            try {
                messages.add((ClientMessage.Message) codec.decodeClient(new String(raw, StandardCharsets.UTF_8)));
            } catch (ProtocolException | ClassCastException e) {
                throw new IllegalStateException("a stored queued message cannot be read: " + e.getMessage(), e);
            }
        }
        return messages;
    }

    private void renewLease() {
        store.renewNode(node, lease).whenComplete((ignored, error) -> {
            if (error != null) {
                if (reachable) {
                    log.warn("the session store cannot be reached: {}", error.toString());
                }
                reachable = false;
            } else {
                if (!reachable) {
                    log.info("the session store is reachable again");
                }
                reachable = true;
            }
        });
    }

    /**
     * Whether the store answered this node's last lease renewal (every third of the lease): while
     * it does not, {@code /readyz} says {@code store_unavailable} and new sessions are refused.
     */
    public boolean reachable() {
        return reachable;
    }

    /** Stops renewing and drops this node's lease (its sessions were released), then disconnects. */
    @Override
    public void close() {
        renewal.cancel(false);
        try {
            store.dropNode(node).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("cannot drop this node's lease: {}", e.toString());
        }
        channel.close();
        store.close();
    }
}
