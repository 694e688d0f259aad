package dev.tether.gateway.session;

import dev.tether.protocol.SessionState;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Journal} for tests of sessions: it records what the session writes and holds every
 * history frame above {@link #reservedUpTo} (0: every frame waits until the test says it is stored;
 * {@code Long.MAX_VALUE}: none waits). What it does not record it ignores, as {@link Journal#NONE} does.
 */
final class RecordingJournal extends Journal.Silent {

    final List<byte[]> frames = new ArrayList<>();
    final List<Long> acks = new ArrayList<>();
    /** Each running turn written, as {@code "processing <message id>"}; other states by their wire name. */
    final List<String> states = new ArrayList<>();

    /** Each granted extension written, by its count. */
    final List<Integer> extensions = new ArrayList<>();

    long reservedUpTo;

    RecordingJournal(long reservedUpTo) {
        this.reservedUpTo = reservedUpTo;
    }

    @Override
    public void append(long seq, byte[] frame) {
        frames.add(frame);
    }

    @Override
    public boolean holds(long seq) {
        return seq > reservedUpTo;
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
    public void extended(int count) {
        extensions.add(count);
    }
}
