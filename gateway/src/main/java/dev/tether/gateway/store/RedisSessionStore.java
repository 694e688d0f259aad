package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.replay.ReplayBuffer;
import io.lettuce.core.Range;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The session store on Redis: one session's directory entry, replay log and recent client message
 * ids under keys that share its hash tag ({@link StoreKeys}), node leases, and per-user session
 * sets. Every write to a session is made by its owner with its {@link Fence}, checked by the
 * script that makes it: a node whose claim was taken gets {@link StaleClaimException} and changes
 * nothing. {@link #claim} is the one way a session changes owner, and of any number of
 * simultaneous claims exactly one wins.
 *
 * <p><b>Threading:</b> thread-safe; one connection, multiplexed (Lettuce pipelines the commands
 * of every caller on it; with a Redis Cluster, one per primary, behind {@link RedisEndpoint}). Every method returns at once; the stage completes on Lettuce's I/O
 * threads, so callers hand the outcome to their own loop. {@link #connect} blocks and is for
 * start-up only.
 */
public final class RedisSessionStore implements AutoCloseable {

    /** The format this code writes sessions in (contract 8.8): {@link StoredFormat#CURRENT}. */
    public static final String FORMAT = StoredFormat.CURRENT;
    /** Prefixes of the messages on a node's channel: a request to hand a session over, and notice that one was taken. */
    static final String HANDOFF = "handoff ";

    static final String TAKEN = "taken ";
    static final String RELEASED = "released ";
    static final String ABSENT = "absent ";

    private final RedisEndpoint endpoint;
    /** Standalone or cluster: the commands both kinds of connection have. */
    private final RedisClusterAsyncCommands<String, byte[]> redis;

    private final Scripts scripts = new Scripts();
    /** What this node writes and reads (contract 8.8). */
    private final StoredFormat format;

    private RedisSessionStore(RedisEndpoint endpoint, StoredFormat format) {
        this.endpoint = endpoint;
        this.redis = endpoint.commands();
        this.format = requireNonNull(format, "format");
    }

    /**
     * Connects to the Redis at {@code uri} ({@code redis://host:port}, {@code rediss://} for TLS,
     * {@code redis-sentinel://} for Sentinel, {@code redis-cluster://host:port,host:port} for a
     * Redis Cluster). Blocks until connected; fails when it cannot.
     */
    public static RedisSessionStore connect(String uri, Duration commandTimeout) {
        return new RedisSessionStore(RedisEndpoint.connect(uri, commandTimeout), StoredFormat.ofThisRelease());
    }

    /** What this node writes and reads. */
    public StoredFormat format() {
        return format;
    }

    /**
     * Rewrites a session claimed with {@code fence} from the older format {@code from} to the one
     * this node writes ({@link StoredFormat#MIGRATIONS}); its owner is this node, so nobody else
     * writes it meanwhile.
     */
    public CompletionStage<Void> migrate(String id, Fence fence, String from) {
        Map<String, String> fields = StoredFormat.MIGRATIONS.getOrDefault(from, Map.of());
        Object[] pairs = new Object[2 + 2 * fields.size()];
        pairs[0] = "format";
        pairs[1] = format.writes();
        int i = 2;
        for (Map.Entry<String, String> field : fields.entrySet()) {
            pairs[i++] = field.getKey();
            pairs[i++] = field.getValue();
        }
        return update(id, fence, pairs);
    }

    /** A connection for pub/sub (hand-off requests), to the same Redis. */
    StatefulRedisPubSubConnection<String, String> connectPubSub() {
        return endpoint.connectPubSub();
    }

    // ---- a session's life ----

    /**
     * Writes a new session's directory entry, owned by {@code node} at epoch 1.
     *
     * @return false when the id is taken (the caller draws another)
     */
    public CompletionStage<Boolean> create(
            String id, String subject, String node, long createdAtMillis, long tokenExpiresAt) {
        return create(id, subject, node, createdAtMillis, tokenExpiresAt, Long.MAX_VALUE / 2);
    }

    /**
     * Like {@link #create(String, String, String, long, long)}; every key of the session expires at
     * {@code expiresAtMillis} at the latest (the longest it can live: a session whose node died and
     * that nobody resumed is gone then, and stops counting against its user).
     */
    public CompletionStage<Boolean> create(
            String id, String subject, String node, long createdAtMillis, long tokenExpiresAt, long expiresAtMillis) {
        return Scripts.<Long>run(
                        redis,
                        scripts.create,
                        ScriptOutputType.INTEGER,
                        new String[] {StoreKeys.directory(id)},
                        bytes(format.writes()),
                        bytes(subject),
                        bytes(node),
                        bytes(createdAtMillis),
                        bytes(tokenExpiresAt),
                        bytes(expiresAtMillis))
                .thenApply(created -> created == 1L);
    }

    /**
     * Appends history frames {@code firstSeq, firstSeq + 1, ...} to the log and trims it to
     * {@code maxMessages} and {@code maxBytes}, oldest first (the replay buffer's rule).
     *
     * @return the newest seq; fails with {@link StaleClaimException}, or with
     *     {@link IllegalStateException} when {@code firstSeq} does not follow the stored newest seq
     */
    public CompletionStage<Long> append(
            String id, Fence fence, int maxMessages, long maxBytes, long firstSeq, List<byte[]> frames) {
        return append(id, fence, maxMessages, maxBytes, false, firstSeq, frames);
    }

    /**
     * Like {@link #append(String, Fence, int, long, long, List)}; {@code afterGap}: the frames before
     * {@code firstSeq} were never written (dropped while the store was away), so the log starts
     * again at {@code firstSeq} and a resume below it gets {@code replay_gap}.
     */
    public CompletionStage<Long> append(
            String id,
            Fence fence,
            int maxMessages,
            long maxBytes,
            boolean afterGap,
            long firstSeq,
            List<byte[]> frames) {
        return fencedScript(
                scripts.append,
                new String[] {StoreKeys.directory(id), StoreKeys.log(id)},
                id,
                fence,
                frames,
                bytes(maxMessages),
                bytes(maxBytes),
                bytes(afterGap ? "1" : "0"),
                bytes(firstSeq));
    }

    /** Drops the log's frames up to and including {@code seq}; resolves to how many were dropped. */
    public CompletionStage<Long> ack(String id, Fence fence, long seq) {
        return fenced(
                id,
                fence,
                Scripts.<Long>run(
                        redis,
                        scripts.ack,
                        ScriptOutputType.INTEGER,
                        new String[] {StoreKeys.directory(id), StoreKeys.log(id)},
                        withFence(fence, bytes(seq))));
    }

    /** The session's state changed ({@code preparing}, {@code idle}, {@code restarting}); no turn runs. */
    public CompletionStage<Void> state(String id, Fence fence, String state) {
        return update(id, fence, "state", bytes(state), "turn", bytes(""));
    }

    /** A turn started: the session is {@code processing} the client message {@code turnId}. */
    public CompletionStage<Void> turn(String id, Fence fence, String turnId) {
        return update(id, fence, "state", bytes("processing"), "turn", bytes(turnId));
    }

    /** A client message waits in the session's queue, behind those already there ({@code message} as sent). */
    public CompletionStage<Void> queued(String id, Fence fence, byte[] message) {
        return queueOp(id, fence, bytes("add"), message);
    }

    /** A queued client message left the queue (its turn started). */
    public CompletionStage<Void> dequeued(String id, Fence fence, byte[] message) {
        return queueOp(id, fence, bytes("remove"), message);
    }

    /** Every queued client message left the queue. */
    public CompletionStage<Void> queueCleared(String id, Fence fence) {
        return queueOp(id, fence, bytes("clear"));
    }

    /** The client messages waiting in the session's queue, in order. */
    public CompletionStage<List<byte[]>> queue(String id) {
        return redis.zrange(StoreKeys.queue(id), 0, -1);
    }

    /**
     * Asks {@code node} to hand {@code id} over (it releases the session once its running turn ends),
     * if it still holds the claim of {@code epoch}, the one the requester saw.
     */
    public CompletionStage<Long> requestHandoff(String node, String id, String requester, long epoch) {
        return redis.publish(StoreKeys.handoffChannel(node), bytes(HANDOFF + id + " " + requester + " " + epoch));
    }

    /** Tells {@code requester}, which asked for {@code id}, that this node does not have it: it claims it at once. */
    public CompletionStage<Long> tellAbsent(String requester, String id) {
        return redis.publish(StoreKeys.handoffChannel(requester), bytes(ABSENT + id));
    }

    /** Tells {@code requester}, which asked for {@code id}, that this node let it go: it claims it at once. */
    public CompletionStage<Long> tellReleased(String requester, String id) {
        return redis.publish(StoreKeys.handoffChannel(requester), bytes(RELEASED + id));
    }

    /** Tells {@code node} that {@code id} was claimed from it at {@code epoch}: its copy of an older epoch goes at once. */
    public CompletionStage<Long> tellTaken(String node, String id, long epoch) {
        return redis.publish(StoreKeys.handoffChannel(node), bytes(TAKEN + epoch + " " + id));
    }

    private CompletionStage<Void> queueOp(String id, Fence fence, byte[]... args) {
        return fenced(
                        id,
                        fence,
                        Scripts.<Long>run(
                                redis,
                                scripts.queue,
                                ScriptOutputType.INTEGER,
                                new String[] {StoreKeys.directory(id), StoreKeys.queue(id)},
                                withFence(fence, args)))
                .thenApply(ignored -> null);
    }

    /** A connection is attached, with a token that expires at {@code tokenExpiresAt} (epoch seconds). */
    public CompletionStage<Void> attached(String id, Fence fence, long tokenExpiresAt) {
        return update(id, fence, "token_expires_at", bytes(tokenExpiresAt), "reconnect_deadline", bytes(0));
    }

    /** No connection is attached; the session ends at {@code deadlineMillis} unless one comes. */
    public CompletionStage<Void> detached(String id, Fence fence, long deadlineMillis) {
        return update(id, fence, "token_expires_at", bytes(0), "reconnect_deadline", bytes(deadlineMillis));
    }

    /**
     * The owner may send seqs up to {@code seq} before writing them (batched writes): a node that
     * adopts the session continues above it. Only ever raised.
     */
    public CompletionStage<Void> reserve(String id, Fence fence, long seq) {
        return update(id, fence, "reserved_seq", bytes(seq));
    }

    /** Checks that {@code fence} still owns the session, changing nothing: fails with {@link StaleClaimException} if not. */
    public CompletionStage<Void> verify(String id, Fence fence) {
        return update(id, fence);
    }

    /** The newest worker checkpoint ({@code state} as JSON). */
    public CompletionStage<Void> checkpoint(String id, Fence fence, byte[] state) {
        return update(id, fence, "checkpoint", requireNonNull(state, "state"));
    }

    /**
     * The newest worker checkpoint ({@code state} as JSON) and the session's newest seq when it was
     * taken ({@code checkpoint_seq}, a fork's {@code fork_seq}), written together.
     */
    public CompletionStage<Void> checkpoint(String id, Fence fence, byte[] state, long seq) {
        return update(id, fence, "checkpoint", requireNonNull(state, "state"), "checkpoint_seq", bytes(seq));
    }

    /** The session was granted its {@code extensions}-th {@code extend} (contract 1.2, 8.3). */
    public CompletionStage<Void> extended(String id, Fence fence, int extensions) {
        return update(id, fence, "extensions", bytes(extensions));
    }

    /** Remembers digests of client message ids, keeping the newest {@code max}. */
    public CompletionStage<Void> rememberMessageIds(String id, Fence fence, int max, List<byte[]> digests) {
        return fencedScript(
                        scripts.messageIds,
                        new String[] {StoreKeys.directory(id), StoreKeys.messageIds(id)},
                        id,
                        fence,
                        digests,
                        bytes(max))
                .thenApply(ignored -> null);
    }

    /**
     * The owner lets the session go: no node owns it until one {@linkplain #claim claims} it (a
     * hand-off, or a drain), by {@code reconnectDeadlineMillis} at the latest (0 when a claimer waits).
     */
    public CompletionStage<Void> release(String id, Fence fence, long reconnectDeadlineMillis) {
        return fenced(
                        id,
                        fence,
                        Scripts.<Long>run(
                                redis,
                                scripts.release,
                                ScriptOutputType.INTEGER,
                                new String[] {StoreKeys.directory(id)},
                                withFence(fence, bytes(reconnectDeadlineMillis))))
                .thenApply(ignored -> null);
    }

    /**
     * Takes the session over for {@code node}, if it is still owned by {@code expectedNode} (empty:
     * released) at {@code expectedEpoch}: the epoch grows by one, which fences the previous owner.
     * The caller decides that the previous owner may be passed over (its lease ran out, or it
     * released the session).
     */
    public CompletionStage<ClaimResult> claim(String id, String node, String expectedNode, long expectedEpoch) {
        return Scripts.<List<Object>>run(
                        redis,
                        scripts.claim,
                        ScriptOutputType.MULTI,
                        new String[] {StoreKeys.directory(id)},
                        bytes(node),
                        bytes(expectedNode),
                        bytes(expectedEpoch),
                        bytes(format.readList()))
                .thenApply(reply -> {
                    String outcome = text(reply.get(0));
                    return switch (outcome) {
                        case "claimed" -> new ClaimResult.Claimed(new Fence(node, Long.parseLong(text(reply.get(1)))));
                        case "not_found" -> new ClaimResult.NotFound();
                        case "incompatible" -> new ClaimResult.Incompatible(text(reply.get(1)));
                        case "ended" -> new ClaimResult.Ended(text(reply.get(1)));
                        case "lost" -> new ClaimResult.Lost(text(reply.get(1)), parseLong(text(reply.get(2))));
                        default -> throw new IllegalStateException("claim script answered " + outcome);
                    };
                });
    }

    /**
     * The session ended for {@code reason}: its directory entry becomes a tombstone that expires
     * after {@code tombstoneTtl}; its log, ids and checkpoint are deleted.
     */
    public CompletionStage<Void> end(String id, Fence fence, String reason, Duration tombstoneTtl) {
        return fencedScript(
                        scripts.end,
                        StoreKeys.allOfSession(id),
                        id,
                        fence,
                        List.of(),
                        bytes(reason),
                        bytes(Math.max(1, tombstoneTtl.toMillis())))
                .thenApply(ignored -> null);
    }

    /** Deletes a session that never started (refused at admission): no tombstone is left. */
    public CompletionStage<Void> discard(String id, Fence fence) {
        return fencedScript(scripts.discard, StoreKeys.allOfSession(id), id, fence, List.of())
                .thenApply(ignored -> null);
    }

    // ---- reading ----

    /** The session's directory entry, or empty when the store has none. */
    public CompletionStage<Optional<StoredSession>> read(String id) {
        return redis.hgetall(StoreKeys.directory(id))
                .thenApply(fields ->
                        fields.isEmpty() ? Optional.<StoredSession>empty() : Optional.of(session(id, fields)));
    }

    /** The log's frames after {@code seq}, in order. */
    public CompletionStage<List<ReplayBuffer.Entry>> logAfter(String id, long seq) {
        return redis.xrange(StoreKeys.log(id), Range.create((seq + 1) + "-0", "+"))
                .thenApply(messages -> {
                    List<ReplayBuffer.Entry> entries = new ArrayList<>(messages.size());
                    for (StreamMessage<String, byte[]> message : messages) {
                        String entryId = message.getId();
                        entries.add(new ReplayBuffer.Entry(
                                Long.parseLong(entryId.substring(0, entryId.indexOf('-'))),
                                message.getBody().get("f")));
                    }
                    return entries;
                });
    }

    /** Digests of the session's remembered client message ids, oldest first. */
    public CompletionStage<List<byte[]>> messageIds(String id) {
        return redis.zrange(StoreKeys.messageIds(id), 0, -1);
    }

    // ---- nodes ----

    /** Renews {@code node}'s lease: it counts as alive for {@code lease} from now. */
    public CompletionStage<Void> renewNode(String node, Duration lease) {
        return redis.set(StoreKeys.node(node), bytes(System.currentTimeMillis()), SetArgs.Builder.px(lease.toMillis()))
                .thenApply(ignored -> null);
    }

    /** Whether {@code node}'s lease is in force. */
    public CompletionStage<Boolean> nodeAlive(String node) {
        return redis.exists(StoreKeys.node(node)).thenApply(count -> count > 0);
    }

    /** Drops {@code node}'s lease at once (a node that stops cleanly). */
    public CompletionStage<Void> dropNode(String node) {
        return redis.del(StoreKeys.node(node)).thenApply(ignored -> null);
    }

    // ---- per-user counts ----

    /**
     * Counts session {@code id} against {@code subject}'s {@code max} sessions on every node. At
     * the limit, sessions of the user whose directory entry is gone or ended are dropped from the
     * count first, then the count is tried once more. A session counts while its directory entry
     * exists, so it is {@linkplain #create created} before it is admitted (and
     * {@linkplain #discard discarded} when refused).
     *
     * @return whether the session was admitted
     */
    public CompletionStage<Boolean> admit(String subject, String id, int max, long createdAtMillis) {
        String key = StoreKeys.userSessions(subject);
        return tryAdmit(key, id, max, createdAtMillis, List.of()).thenCompose(admitted -> {
            if (admitted) {
                return CompletableFuture.completedFuture(true);
            }
            return redis.zrange(key, 0, -1)
                    .thenCompose(members -> endedAmong(members))
                    .thenCompose(ended -> ended.isEmpty()
                            ? CompletableFuture.completedFuture(false)
                            : tryAdmit(key, id, max, createdAtMillis, ended));
        });
    }

    /** Session {@code id} of {@code subject} no longer counts (it ended, or never started). */
    public CompletionStage<Void> forget(String subject, String id) {
        return redis.zrem(StoreKeys.userSessions(subject), bytes(id)).thenApply(ignored -> null);
    }

    /** The ids of the sessions that count against {@code subject} now. */
    public CompletionStage<List<String>> sessionIdsOf(String subject) {
        return redis.zrange(StoreKeys.userSessions(subject), 0, -1)
                .thenApply(
                        members -> members.stream().map(RedisSessionStore::text).toList());
    }

    /** How many sessions count against {@code subject} now. */
    public CompletionStage<Long> sessionsOf(String subject) {
        return redis.zcard(StoreKeys.userSessions(subject));
    }

    @Override
    public void close() {
        endpoint.close();
    }

    // ---- helpers ----

    private CompletionStage<Boolean> tryAdmit(
            String key, String id, int max, long createdAtMillis, List<byte[]> ended) {
        byte[][] args = new byte[3 + ended.size()][];
        args[0] = bytes(max);
        args[1] = bytes(id);
        args[2] = bytes(createdAtMillis);
        for (int i = 0; i < ended.size(); i++) {
            args[3 + i] = ended.get(i);
        }
        return Scripts.<Long>run(redis, scripts.admit, ScriptOutputType.INTEGER, new String[] {key}, args)
                .thenApply(admitted -> admitted == 1L);
    }

    /** The members (session ids) whose directory entry is gone or ended. */
    private CompletionStage<List<byte[]>> endedAmong(List<byte[]> members) {
        List<CompletableFuture<byte[]>> checks = new ArrayList<>(members.size());
        for (byte[] member : members) {
            String id = text(member);
            checks.add(redis.hget(StoreKeys.directory(id), "state")
                    .toCompletableFuture()
                    .thenApply(state -> state == null || "ended".equals(text(state)) ? member : null));
        }
        return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            List<byte[]> ended = new ArrayList<>();
            for (CompletableFuture<byte[]> check : checks) {
                byte[] member = check.join();
                if (member != null) {
                    ended.add(member);
                }
            }
            return ended;
        });
    }

    private CompletionStage<Void> update(String id, Fence fence, Object... fieldsAndValues) {
        List<byte[]> values = new ArrayList<>(fieldsAndValues.length);
        for (Object item : fieldsAndValues) {
            values.add(item instanceof byte[] raw ? raw : bytes((String) item));
        }
        return fencedScript(scripts.update, new String[] {StoreKeys.directory(id)}, id, fence, values)
                .thenApply(ignored -> null);
    }

    /**
     * Runs {@code script} on {@code keys} as the owner under {@code fence}: its arguments are the
     * fence, then {@code args}, then {@code tail}.
     */
    private CompletionStage<Long> fencedScript(
            Scripts.Script script, String[] keys, String id, Fence fence, List<byte[]> tail, byte[]... args) {
        byte[][] all = new byte[2 + args.length + tail.size()][];
        fenceArgs(fence, all);
        System.arraycopy(args, 0, all, 2, args.length);
        for (int i = 0; i < tail.size(); i++) {
            all[2 + args.length + i] = tail.get(i);
        }
        return fenced(id, fence, Scripts.<Long>run(redis, script, ScriptOutputType.INTEGER, keys, all));
    }

    /** Turns the fence's refusals into {@link StaleClaimException} and a seq mismatch into {@link IllegalStateException}. */
    private static <T> CompletionStage<T> fenced(String id, Fence fence, CompletionStage<T> write) {
        return write.handle((result, failure) -> {
            if (failure == null) {
                return result;
            }
            Throwable cause = Scripts.cause(failure);
            String message = cause.getMessage() == null ? "" : cause.getMessage();
            if (message.startsWith("ERR ")) {
                message = message.substring("ERR ".length()); // how some servers prefix a script's error
            }
            if (cause instanceof RedisCommandExecutionException
                    && (message.startsWith("STALE") || message.startsWith("NOSESSION"))) {
                boolean forgotten = message.startsWith("NOSESSION");
                throw new StaleClaimException(
                        id,
                        fence,
                        forgotten
                                ? "no such session"
                                : "epoch and node "
                                        + message.substring("STALE".length()).strip(),
                        forgotten);
            }
            if (cause instanceof RedisCommandExecutionException && message.startsWith("SEQ")) {
                throw new IllegalStateException("session " + id + ": the store's newest seq is "
                        + message.substring("SEQ".length()).strip());
            }
            throw cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
        });
    }

    private static byte[][] withFence(Fence fence, byte[]... rest) {
        byte[][] args = new byte[2 + rest.length][];
        fenceArgs(fence, args);
        System.arraycopy(rest, 0, args, 2, rest.length);
        return args;
    }

    private static void fenceArgs(Fence fence, byte[][] args) {
        args[0] = bytes(fence.epoch());
        args[1] = bytes(fence.node());
    }

    private static StoredSession session(String id, Map<String, byte[]> fields) {
        return new StoredSession(
                id,
                field(fields, "format", ""),
                field(fields, "subject", ""),
                field(fields, "node", ""),
                parseLong(field(fields, "epoch", "0")),
                field(fields, "state", ""),
                parseLong(field(fields, "newest_seq", "0")),
                parseLong(field(fields, "reserved_seq", "0")),
                parseLong(field(fields, "token_expires_at", "0")),
                parseLong(field(fields, "reconnect_deadline", "0")),
                fields.containsKey("end_reason") ? text(fields.get("end_reason")) : null,
                fields.containsKey("checkpoint") ? text(fields.get("checkpoint")) : null,
                field(fields, "turn", ""),
                parseLong(field(fields, "created_at", "0")),
                parseLong(field(fields, "seen_at", "0")),
                (int) parseLong(field(fields, "extensions", "0")),
                fields.containsKey("checkpoint_seq") ? parseLong(text(fields.get("checkpoint_seq"))) : null);
    }

    private static String field(Map<String, byte[]> fields, String name, String absent) {
        byte[] value = fields.get(name);
        return value == null ? absent : text(value);
    }

    private static long parseLong(String text) {
        return text.isEmpty() ? 0 : Long.parseLong(text);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(long number) {
        return Long.toString(number).getBytes(StandardCharsets.US_ASCII);
    }

    private static String text(Object bytes) {
        return bytes == null ? "" : new String((byte[]) bytes, StandardCharsets.UTF_8);
    }
}
