package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.replay.ReplayBuffer;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
    /** Claims lost to another node before a resume gives up on adopting (each then re-reads the owner). */
    static final int MAX_CLAIM_ATTEMPTS = 5;

    private final RedisSessionStore store;
    private final StatefulRedisPubSubConnection<String, String> requests;
    private final String node;
    private final SessionConfig sessions;
    private final Duration lease;
    private final Duration handoffTimeout;
    private final WireCodec codec;
    private final Clock clock;
    private final ScheduledExecutorService timers;
    private final ScheduledFuture<?> renewal;
    private volatile Consumer<String> handoffRequests = id -> { };
    /** Take-overs under way on this node, by session id. */
    private final java.util.concurrent.ConcurrentHashMap<String, CompletableFuture<Adoption>> adopting =
            new java.util.concurrent.ConcurrentHashMap<>();

    private SharedSessionStore(RedisSessionStore store, StatefulRedisPubSubConnection<String, String> requests, String node,
            SessionConfig sessions, Duration lease, Duration handoffTimeout, WireCodec codec, Clock clock,
            ScheduledExecutorService timers) {
        this.store = store;
        this.requests = requests;
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
    public static SharedSessionStore start(String uri, String node, SessionConfig sessions, Duration lease,
            Duration handoffTimeout, WireCodec codec, Clock clock, ScheduledExecutorService timers) {
        requireNonNull(node, "node");
        RedisSessionStore store = RedisSessionStore.connect(uri, Duration.ofSeconds(5));
        StatefulRedisPubSubConnection<String, String> requests = null;
        try {
            store.renewNode(node, lease).toCompletableFuture().get(10, TimeUnit.SECONDS);
            requests = store.connectPubSub();
            SharedSessionStore shared = new SharedSessionStore(store, requests, node, sessions, lease, handoffTimeout,
                    codec, clock, timers);
            requests.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String id) {
                    shared.handoffRequests.accept(id);
                }
            });
            requests.sync().subscribe(StoreKeys.handoffChannel(node));
            return shared;
        } catch (Exception e) {
            if (requests != null) {
                requests.close();
            }
            store.close();
            throw new IllegalStateException("cannot reach the session store at " + RedisUris.redacted(uri) + ": " + e, e);
        }
    }

    /** Where another node's request to hand session {@code id} over goes (set once, at start-up). */
    public void onHandoffRequest(Consumer<String> handler) {
        this.handoffRequests = requireNonNull(handler, "handler");
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
        return store.create(id, subject, node, now, tokenExpiresAt).thenCompose(created -> {
            if (!created) {
                throw new IllegalStateException("session id " + id + " is taken in the store");
            }
            return store.admit(subject, id, sessions.maxSessionsPerUser(), now);
        }).thenCompose(admitted -> {
            if (admitted) {
                return CompletableFuture.<Creation>completedFuture(new Creation.Created(journal(id, subject, new Fence(node, 1), executor)));
            }
            return store.discard(id, new Fence(node, 1)).thenApply(ignored -> new Creation.UserLimit());
        });
    }

    @Override
    public CompletionStage<Void> abandon(String id, String subject) {
        return store.discard(id, new Fence(node, 1)).exceptionally(error -> null)
                .thenCompose(ignored -> store.forget(subject, id));
    }

    @Override
    public CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor) {
        // Resumes of one session racing on this node share one take-over: the node claims it once.
        CompletableFuture<Adoption> mine = new CompletableFuture<>();
        CompletableFuture<Adoption> running = adopting.putIfAbsent(id, mine);
        if (running != null) {
            return running;
        }
        adopt(id, subject, lastSeq, executor, 1).whenComplete((adoption, error) -> {
            adopting.remove(id, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(adoption);
            }
        });
        return mine;
    }

    private CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor, int attempt) {
        return store.read(id).thenCompose(found -> {
            if (found.isEmpty() || !found.get().subject().equals(subject)) {
                return CompletableFuture.completedFuture(new Adoption.NotFound());
            }
            StoredSession stored = found.get();
            if (!RedisSessionStore.READABLE_FORMATS.equals(stored.format())) {
                return CompletableFuture.completedFuture(new Adoption.Incompatible(stored.format()));
            }
            if (stored.ended()) {
                return CompletableFuture.completedFuture(new Adoption.Ended(stored.endReason()));
            }
            return freeOwner(stored).thenCompose(free -> store.claim(id, node, free.node(), free.epoch()))
                    .thenCompose(claim -> {
                        if (claim instanceof ClaimResult.Claimed claimed) {
                            return load(stored, claimed.fence(), lastSeq, executor);
                        }
                        if (claim instanceof ClaimResult.Lost && attempt < MAX_CLAIM_ATTEMPTS) {
                            return adopt(id, subject, lastSeq, executor, attempt + 1);
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
        });
    }

    /**
     * Where the session may be claimed from: at once when no node owns it, its owner's lease ran out,
     * or its owner is this node (restarted: it has nothing of it). A live owner is asked to hand it
     * over and is waited for (it releases the session once its running turn ends), at most
     * {@code handoff_timeout} plus the lease; then it is claimed anyway, which fences the owner.
     */
    private CompletionStage<StoredSession> freeOwner(StoredSession stored) {
        if (stored.node().isEmpty() || stored.node().equals(node)) {
            return CompletableFuture.completedFuture(stored);
        }
        return store.nodeAlive(stored.node()).thenCompose(alive -> {
            if (!alive) {
                log.atInfo().addKeyValue("session", stored.id()).log("taking over from node {}: its lease ran out", stored.node());
                return CompletableFuture.completedFuture(stored);
            }
            log.atInfo().addKeyValue("session", stored.id()).log("asking node {} to hand the session over", stored.node());
            CompletableFuture<StoredSession> free = new CompletableFuture<>();
            store.requestHandoff(stored.node(), stored.id()).whenComplete((receivers, error) -> {
                long deadline = System.nanoTime() + handoffTimeout.plus(lease).toNanos();
                poll(stored, deadline, free);
            });
            return free;
        });
    }

    private void poll(StoredSession asked, long deadline, CompletableFuture<StoredSession> free) {
        timers.schedule(() -> store.read(asked.id()).thenCompose(now -> {
            if (now.isEmpty() || now.get().node().isEmpty() || now.get().epoch() != asked.epoch()
                    || !now.get().node().equals(asked.node())) {
                return CompletableFuture.completedFuture(now.orElse(asked));
            }
            if (System.nanoTime() - deadline > 0) {
                log.atWarn().addKeyValue("session", asked.id()).log("node {} did not hand the session over in {}: "
                        + "taking it", asked.node(), handoffTimeout.plus(lease));
                return CompletableFuture.completedFuture(now.get());
            }
            return store.nodeAlive(asked.node()).thenApply(alive -> alive ? null : now.get());
        }).whenComplete((ready, error) -> {
            if (error != null) {
                free.completeExceptionally(error);
            } else if (ready != null) {
                free.complete(ready);
            } else {
                poll(asked, deadline, free);
            }
        }), HANDOFF_POLL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Reads what the claimed session needs to continue here. */
    private CompletionStage<Adoption> load(StoredSession before, Fence fence, long lastSeq, EventExecutor executor) {
        String id = before.id();
        CompletableFuture<java.util.Optional<StoredSession>> directory = store.read(id).toCompletableFuture();
        CompletableFuture<List<ReplayBuffer.Entry>> log = store.logAfter(id, 0).toCompletableFuture();
        CompletableFuture<List<byte[]>> ids = store.messageIds(id).toCompletableFuture();
        CompletableFuture<List<byte[]>> queue = store.queue(id).toCompletableFuture();
        return CompletableFuture.allOf(directory, log, ids, queue).thenApply(ignored -> {
            StoredSession stored = directory.join().orElseThrow(() -> new IllegalStateException("session " + id
                    + " vanished from the store while this node took it over"));
            long newest = Math.max(Math.max(stored.newestSeq(), stored.reservedSeq()), lastSeq);
            JsonNode checkpoint = stored.checkpoint() == null ? null : parse(stored.checkpoint());
            String lostTurn = "processing".equals(stored.state()) && !stored.turn().isEmpty() ? stored.turn() : null;
            Restored restored = new Restored(Instant.ofEpochMilli(stored.createdAtMillis()), newest, log.join(),
                    ids.join(), messages(queue.join()), checkpoint, lostTurn,
                    before.node().isEmpty() ? "(released)" : before.node());
            return new Adoption.Adopted(journal(id, stored.subject(), fence, executor), restored);
        });
    }

    private RedisJournal journal(String id, String subject, Fence fence, EventExecutor executor) {
        return new RedisJournal(store, id, subject, fence, executor, codec, new RedisJournal.Limits(
                sessions.replayMaxMessages(), sessions.replayMaxBytes(), sessions.maxTrackedMessageIds(),
                sessions.tombstoneTtl()));
    }

    private JsonNode parse(byte[] json) {
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
                log.warn("cannot renew this node's lease in the session store: {}", error.toString());
            }
        });
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
        requests.close();
        store.close();
    }
}
