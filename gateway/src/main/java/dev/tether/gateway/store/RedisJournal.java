package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.Journal;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's journal in the Redis store: its writes, in order, with its owner's {@link Fence}.
 * Writes are batched: while one batch is on its way, the next gathers, then goes as one pipeline,
 * consecutive frames as one append; so the cost per message falls as the rate rises. With
 * {@code write_mode: before_send} history is held until stored (the session shows a frame when
 * {@link Journal.Event.Stored} covers it); with {@code batched} it is shown at once while its seq is
 * within the reservation, which the journal keeps {@value #RESERVE_AHEAD} seqs ahead of the newest.
 *
 * <p>A batch the store refuses because another node took the session over ends the journal:
 * {@link Journal.Event.Lost}. A batch that fails because the store cannot be reached is sent again,
 * after a pause that doubles up to {@value #MAX_RETRY_MILLIS} ms (every write is harmless to
 * repeat). A batch unanswered for {@code unavailable_after}, or failed, makes the session show its
 * output without waiting ({@link Journal.Event.Unavailable}) until a batch is taken again
 * ({@link Journal.Event.Available}). Meanwhile the frames waiting are bounded like the replay buffer
 * (the oldest dropped, the log restarting after them, so a resume below them gets
 * {@code replay_gap}), consecutive acks are one, and past {@value #MAX_PENDING} other writes the
 * session is given up ({@code lost}): a store that stays away costs bounded memory.
 *
 * <p><b>Threading:</b> confined to the session's event loop; store replies hop back onto it.
 */
final class RedisJournal implements Journal {

    /** Writes that may wait for the store before the session is given up. */
    static final int MAX_PENDING = 20_000;

    static final long MAX_RETRY_MILLIS = 2_000;
    /** How far ahead of the newest seq a batched journal reserves seqs. */
    static final long RESERVE_AHEAD = 256;

    private static final Logger log = LoggerFactory.getLogger(RedisJournal.class);

    /** One write waiting to go. */
    private sealed interface Op {}

    /**
     * A history frame: consecutive ones go as one append; {@code afterGap}: frames before it were
     * dropped. A class, not a record: the frame is handed on without a copy, and compared by nobody.
     */
    private static final class Append implements Op {
        private final long seq;
        private final byte[] frame; // the session's encoded frame, as it is: never changed
        private final boolean afterGap;

        Append(long seq, byte[] frame, boolean afterGap) {
            this.seq = seq;
            this.frame = frame;
            this.afterGap = afterGap;
        }

        long seq() {
            return seq;
        }

        byte[] frame() {
            return frame;
        }

        boolean afterGap() {
            return afterGap;
        }
    }

    /** The client acknowledged up to {@code seq}: consecutive ones waiting are one. */
    private record Ack(long seq) implements Op {}

    /** Any other write; {@code done} (may be null) completes when it is stored or given up. */
    private record Write(Supplier<CompletionStage<?>> call, CompletableFuture<Void> done) implements Op {}

    /** Frames of one append in a batch, reported as stored together. */
    private record Frames(long firstSeq, List<byte[]> frames) {}

    /** Whether this journal's owner runs {@code write_mode: batched}. */
    private final boolean batched;
    /** The newest seq reserved in the store (batched); frames above it wait for the reservation. */
    private long reservedSeq;
    /** The newest seq a reservation was asked for. */
    private long reserving;
    /** The newest seq handed to {@link #append}, or the store's newest when the journal started. */
    private long newestSeq;
    /** The store did not answer (see {@link Journal.Event.Unavailable}). */
    private boolean away;
    /** Frames waiting in {@link #pending}, and their bytes, against the replay bounds. */
    private int pendingFrames;

    private long pendingFrameBytes;
    /** Writes other than frames and acks waiting in {@link #pending}. */
    private int pendingOther;
    /** Fires when a batch has been on its way for {@code unavailable_after}. */
    private ScheduledFuture<?> stall;

    private final RedisSessionStore store;
    private final String id;
    private final String subject;
    private final Fence fence;
    private final EventExecutor executor;
    private final WireCodec codec;
    private final Limits limits;
    private final Directory directory;
    private final ArrayDeque<Op> pending = new ArrayDeque<>();
    private boolean inFlight;
    private boolean wroteSinceVerify;
    private ScheduledFuture<?> verifier;
    private Consumer<Journal.Event> events;
    /** Given up: another node has the session, it was released or ended, or the store stayed away. */
    private boolean finished;

    private long retryMillis;
    /** A failed batch waits {@link #retryMillis} before it goes again: nothing is sent meanwhile. */
    private boolean backingOff;

    /** Where the node keeps its journals, so that another node's notice that it took a session reaches them. */
    interface Directory {
        void started(RedisJournal journal);

        void finished(RedisJournal journal);
    }

    /** The bounds the journal writes with. */
    record Limits(
            int replayMaxMessages,
            long replayMaxBytes,
            int maxTrackedIds,
            Duration tombstoneTtl,
            Duration verifyEvery,
            boolean batched,
            Duration unavailableAfter) {}

    /**
     * @param storedSeq the newest seq in the store's log when the journal starts
     * @param reservedSeq the newest seq reserved in the store when the journal starts
     */
    RedisJournal(
            RedisSessionStore store,
            String id,
            String subject,
            Fence fence,
            EventExecutor executor,
            WireCodec codec,
            Limits limits,
            Directory directory,
            long storedSeq,
            long reservedSeq) {
        this.batched = limits.batched();
        this.newestSeq = storedSeq;
        this.reservedSeq = reservedSeq;
        this.reserving = reservedSeq;
        this.directory = requireNonNull(directory, "directory");
        this.store = requireNonNull(store, "store");
        this.id = requireNonNull(id, "id");
        this.subject = requireNonNull(subject, "subject");
        this.fence = requireNonNull(fence, "fence");
        this.executor = requireNonNull(executor, "executor");
        this.codec = requireNonNull(codec, "codec");
        this.limits = requireNonNull(limits, "limits");
    }

    @Override
    public boolean holds(long seq) {
        return !batched || seq > reservedSeq;
    }

    @Override
    public void start(Consumer<Journal.Event> events) {
        this.events = requireNonNull(events, "events");
        directory.started(this);
        verifier = executor.scheduleAtFixedRate(
                this::verifyIfQuiet,
                limits.verifyEvery().toNanos(),
                limits.verifyEvery().toNanos(),
                TimeUnit.NANOSECONDS);
        flush();
    }

    /**
     * A session that writes nothing (idle, attached or not) would not learn that another node took
     * it over; so every {@code verifyEvery} (the lease) a journal that wrote nothing since checks
     * its claim, which the fence refuses if it is stale.
     */
    private void verifyIfQuiet() {
        if (finished) {
            return;
        }
        if (wroteSinceVerify) {
            wroteSinceVerify = false;
            return;
        }
        write(() -> store.verify(id, fence));
    }

    /** The lease epoch of the claim this journal writes under. */
    long epoch() {
        return fence.epoch();
    }

    /**
     * Another node claimed the session at {@code epoch}: if that is newer than this journal's
     * claim, the session here is given up at once, without waiting for a write to be refused (an
     * idle session writes nothing). Any thread.
     */
    void supersededAt(long epoch) {
        if (epoch <= fence.epoch()) {
            return;
        }
        executor.execute(() -> {
            if (!finished) {
                giveUp("another node claimed the session at epoch " + epoch, true);
            }
        });
    }

    @Override
    public void append(long seq, byte[] frame) {
        // A session taken over goes on above every seq its last owner may have sent, not only
        // above what it stored: the log then starts again there (a resume below gets replay_gap).
        add(new Append(seq, frame, seq > newestSeq + 1));
        newestSeq = seq;
        if (batched && seq + RESERVE_AHEAD / 2 > reserving && !finished) {
            long upTo = seq + RESERVE_AHEAD;
            reserving = upTo;
            write(() -> store.reserve(id, fence, upTo).thenRun(() -> executor.execute(() -> onReserved(upTo))));
        }
    }

    private void onReserved(long upTo) {
        if (upTo > reservedSeq && !finished) {
            reservedSeq = upTo;
            events.accept(new Journal.Event.Reserved(upTo));
        }
    }

    @Override
    public void ack(long seq) {
        add(new Ack(seq));
    }

    @Override
    public void state(SessionState state, String turnId) {
        if (state == SessionState.ENDED) {
            return; // end() writes the tombstone
        }
        if (turnId != null) {
            write(() -> store.turn(id, fence, turnId));
        } else {
            write(() -> store.state(id, fence, state.wire()));
        }
    }

    @Override
    public void attached(long tokenExpiresAt) {
        write(() -> store.attached(id, fence, tokenExpiresAt));
    }

    @Override
    public void detached(long deadlineMillis) {
        write(() -> store.detached(id, fence, deadlineMillis));
    }

    @Override
    public void checkpoint(byte[] state) {
        write(() -> store.checkpoint(id, fence, state));
    }

    @Override
    public void checkpoint(byte[] state, long seq) {
        write(() -> store.checkpoint(id, fence, state, seq));
    }

    @Override
    public void extended(int extensions) {
        write(() -> store.extended(id, fence, extensions));
    }

    @Override
    public void taken(byte[] idDigest) {
        write(() -> store.rememberMessageIds(id, fence, limits.maxTrackedIds(), List.of(idDigest)));
    }

    @Override
    public void queued(ClientMessage.Message message) {
        byte[] encoded = encode(message);
        write(() -> store.queued(id, fence, encoded));
    }

    @Override
    public void dequeued(ClientMessage.Message message) {
        byte[] encoded = encode(message);
        write(() -> store.dequeued(id, fence, encoded));
    }

    @Override
    public void queueCleared() {
        write(() -> store.queueCleared(id, fence));
    }

    @Override
    public CompletionStage<Void> end(EndReason reason) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        add(new Write(
                () -> store.end(id, fence, reason.wire(), limits.tombstoneTtl())
                        .thenCompose(ignored -> store.forget(subject, id)),
                done));
        return done.whenComplete((ignored, error) -> finish());
    }

    @Override
    public CompletionStage<Void> release(long reconnectDeadlineMillis) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        add(new Write(() -> store.release(id, fence, reconnectDeadlineMillis), done));
        return done.whenComplete((ignored, error) -> finish());
    }

    // ---- batching ----

    private void write(Supplier<CompletionStage<?>> call) {
        add(new Write(call, null));
    }

    private void add(Op op) {
        assert executor.inEventLoop();
        if (finished) {
            if (op instanceof Write w && w.done() != null) {
                w.done().complete(null);
            }
            return;
        }
        if (op instanceof Ack && pending.peekLast() instanceof Ack) {
            pending.pollLast(); // the newer ack covers the older
        }
        pending.addLast(op);
        count(op, 1);
        wroteSinceVerify = true;
        if (pendingOther > MAX_PENDING) {
            giveUp("the session store has not taken " + pendingOther + " writes", false);
            return;
        }
        if (away) {
            dropBeyondReplayBounds();
        }
        flush();
    }

    private void count(Op op, int sign) {
        if (op instanceof Append append) {
            pendingFrames += sign;
            pendingFrameBytes += sign * (long) append.frame().length;
        } else if (op instanceof Write) {
            pendingOther += sign;
        }
    }

    /**
     * While the store is away (and the session shows frames without waiting), frames waiting beyond
     * the replay bounds are dropped, oldest first, as the log would evict them anyway; the first
     * frame kept restarts the log. (Before that, frames wait however many: the session shows them
     * only once stored, so none may be dropped; {@code unavailable_after} bounds that wait.)
     */
    private void dropBeyondReplayBounds() {
        if (pendingFrames <= limits.replayMaxMessages() && pendingFrameBytes <= limits.replayMaxBytes()) {
            return;
        }
        ArrayDeque<Op> kept = new ArrayDeque<>(pending.size());
        boolean dropped = false;
        for (Op op : pending) {
            if (op instanceof Append
                    && (pendingFrames > limits.replayMaxMessages() || pendingFrameBytes > limits.replayMaxBytes())) {
                count(op, -1);
                dropped = true;
                continue;
            }
            if (dropped && op instanceof Append append) {
                kept.addLast(new Append(append.seq(), append.frame(), true));
                dropped = false;
            } else {
                kept.addLast(op);
            }
        }
        pending.clear();
        pending.addAll(kept);
        log.atWarn()
                .addKeyValue("session", id)
                .log("the session store is away: frames beyond the replay bounds dropped "
                        + "from the journal (a resume elsewhere below them gets replay_gap)");
    }

    private void flush() {
        if (inFlight || backingOff || finished || events == null || pending.isEmpty()) {
            return;
        }
        List<Op> batch = new ArrayList<>(pending);
        pending.clear();
        pendingFrames = 0;
        pendingFrameBytes = 0;
        pendingOther = 0;
        inFlight = true;
        stall = executor.schedule(this::stalled, limits.unavailableAfter().toNanos(), TimeUnit.NANOSECONDS);
        List<Frames> appended = new ArrayList<>();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        try {
            issue(batch, appended, calls);
        } catch (RuntimeException e) {
            calls.add(CompletableFuture.failedFuture(e)); // retried like a store that did not answer
        }
        Unwatched.whenComplete(
                CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)),
                (ignored, failure) -> executor.execute(() -> done(batch, appended, failure)));
    }

    /** Sends {@code batch}'s writes, pipelined: consecutive frames as one append. */
    private void issue(List<Op> batch, List<Frames> appended, List<CompletableFuture<?>> calls) {
        int i = 0;
        while (i < batch.size()) {
            if (batch.get(i) instanceof Append first) {
                List<byte[]> frames = new ArrayList<>();
                int start = i;
                while (i < batch.size() && batch.get(i) instanceof Append next && (i == start || !next.afterGap())) {
                    frames.add(next.frame());
                    i++;
                }
                appended.add(new Frames(first.seq(), frames));
                calls.add(store.append(
                                id,
                                fence,
                                limits.replayMaxMessages(),
                                limits.replayMaxBytes(),
                                first.afterGap(),
                                first.seq(),
                                frames)
                        .toCompletableFuture());
            } else if (batch.get(i) instanceof Ack ack) {
                calls.add(store.ack(id, fence, ack.seq()).toCompletableFuture());
                i++;
            } else {
                calls.add(((Write) batch.get(i)).call().get().toCompletableFuture());
                i++;
            }
        }
    }

    /** A batch on its way for {@code unavailable_after}: the session stops waiting for the store. */
    private void stalled() {
        if (inFlight && !finished) {
            markAway();
        }
    }

    private void markAway() {
        if (!away) {
            away = true;
            events.accept(new Journal.Event.Unavailable());
        }
    }

    private void done(List<Op> batch, List<Frames> appended, Throwable failure) {
        inFlight = false;
        stall.cancel(false);
        if (finished) {
            completeAll(batch);
            return;
        }
        if (failure != null) {
            Throwable cause = Scripts.cause(failure);
            if (cause instanceof StaleClaimException || cause instanceof IllegalStateException) {
                // Another node has the session, or the store's log does not fit this journal's
                // (never expected; retrying could not mend it): the session leaves this node.
                completeAll(batch);
                giveUp(cause.getMessage(), cause instanceof StaleClaimException stale && !stale.forgotten());
                return;
            }
            for (int i = batch.size() - 1; i >= 0; i--) {
                pending.addFirst(batch.get(i));
                count(batch.get(i), 1);
            }
            retryMillis = Math.min(MAX_RETRY_MILLIS, Math.max(50, retryMillis * 2));
            log.atWarn()
                    .addKeyValue("session", id)
                    .log(
                            "session store write failed ({}); again in {} ms",
                            String.valueOf(cause.getMessage()),
                            retryMillis);
            backingOff = true; // what the session writes meanwhile (its notice first) waits for the retry
            executor.schedule(
                            () -> {
                                backingOff = false;
                                flush();
                            },
                            retryMillis,
                            TimeUnit.MILLISECONDS)
                    .addListener(Unwatched.LOG_FAILURE);
            markAway();
            dropBeyondReplayBounds();
            return;
        }
        retryMillis = 0;
        for (Frames frames : appended) {
            events.accept(new Journal.Event.Stored(frames.firstSeq(), frames.frames()));
        }
        completeAll(batch);
        if (away) {
            away = false;
            events.accept(new Journal.Event.Available());
        }
        flush();
    }

    /** @param replaced whether another node has the session (else the store lost it, or could not take this node's writes) */
    private void giveUp(String why, boolean replaced) {
        log.atDebug()
                .addKeyValue("session", id)
                .log("journal at epoch {} of {} given up: {}", fence.epoch(), fence.node(), why);
        finished = true;
        stopVerifying();
        directory.finished(this);
        completeAll(new ArrayList<>(pending));
        pending.clear();
        if (events != null) {
            events.accept(new Journal.Event.Lost(why, replaced));
        }
    }

    private void finish() {
        if (executor.inEventLoop()) {
            finished = true;
            stopVerifying();
            directory.finished(this);
        } else {
            executor.execute(this::finish);
        }
    }

    private void stopVerifying() {
        if (verifier != null) {
            verifier.cancel(false);
        }
    }

    private static void completeAll(List<Op> ops) {
        for (Op op : ops) {
            if (op instanceof Write w && w.done() != null) {
                w.done().complete(null);
            }
        }
    }

    private byte[] encode(ClientMessage.Message message) {
        return codec.encode(message).getBytes(StandardCharsets.UTF_8);
    }
}
