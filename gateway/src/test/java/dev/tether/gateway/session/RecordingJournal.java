package dev.tether.gateway.session;

import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.SessionState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A {@link Journal} for tests of sessions: it records what the session writes and holds every
 * history frame above {@link #reservedUpTo} (0: every frame waits until the test says it is stored;
 * {@code Long.MAX_VALUE}: none waits).
 */
final class RecordingJournal implements Journal {

    final List<byte[]> frames = new ArrayList<>();
    final List<Long> acks = new ArrayList<>();
    /** Each running turn written, as {@code "processing <message id>"}; other states by their wire name. */
    final List<String> states = new ArrayList<>();
    long reservedUpTo;

    RecordingJournal(long reservedUpTo) {
        this.reservedUpTo = reservedUpTo;
    }

    @Override
    public boolean holds(long seq) {
        return seq > reservedUpTo;
    }

    @Override
    public void start(Consumer<Event> events) {
    }

    @Override
    public void append(long seq, byte[] frame) {
        frames.add(frame);
    }

    @Override
    public void ack(long seq) {
        acks.add(seq);
    }

    @Override
    public void state(SessionState state, String turnId) {
        states.add(turnId == null ? state.wire() : state.wire() + " " + turnId);
    }

    @Override
    public void attached(long tokenExpiresAt) {
    }

    @Override
    public void detached(long deadlineMillis) {
    }

    @Override
    public void checkpoint(byte[] state) {
    }

    @Override
    public void taken(byte[] idDigest) {
    }

    @Override
    public void queued(ClientMessage.Message message) {
    }

    @Override
    public void dequeued(ClientMessage.Message message) {
    }

    @Override
    public void queueCleared() {
    }

    @Override
    public CompletionStage<Void> end(EndReason reason) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> release(long reconnectDeadlineMillis) {
        return CompletableFuture.completedFuture(null);
    }
}
