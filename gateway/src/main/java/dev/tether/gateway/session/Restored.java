package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a session continued from the shared store starts with: everything the node that had it
 * stored (contract 7.1).
 *
 * @param startedAt when the session was created (its limits count from then, on any node)
 * @param newestSeq the seq it continues above: at least the newest stored, and above every seq the
 *     previous node may have sent
 * @param history the stored history frames, oldest first
 * @param messageIds digests of the client message ids taken, oldest first
 * @param queued client messages that were waiting in its queue, in order
 * @param checkpoint the newest worker checkpoint, or null
 * @param lostTurnId the message id of a turn that was running on the previous node, or null
 * @param fromNode the node that had the session, for the client's notice and the logs
 * @param extensions the {@code extend}s it was granted (contract 1.2, 8.3): its end is that much later
 * @param checkpointSeq the newest seq when {@code checkpoint} was taken (a fork's {@code fork_seq},
 *     contract 1.2, 8.2), or null when the store does not say (0 is then assumed with a checkpoint)
 */
public record Restored(
        Instant startedAt,
        long newestSeq,
        List<ReplayBuffer.Entry> history,
        List<byte[]> messageIds,
        List<ClientMessage.Message> queued,
        JsonNode checkpoint,
        String lostTurnId,
        String fromNode,
        int extensions,
        Long checkpointSeq) {
    public Restored {
        requireNonNull(startedAt, "startedAt");
        history = List.copyOf(history);
        messageIds = List.copyOf(messageIds);
        queued = List.copyOf(queued);
        requireNonNull(fromNode, "fromNode");
        if (extensions < 0) {
            throw new IllegalArgumentException("extensions must be >= 0");
        }
    }

    /**
     * The worker's requests to the user (contract 7.3) its history shows.
     *
     * @param resolved ids of requests resolved, in the order of their resolution
     * @param open ids of requests still waiting, in the order they were asked
     */
    record Requests(List<String> resolved, Set<String> open) {}

    /**
     * Whether the session slept (contract 1.2, 8.9) when it was stored: the newest {@code status}
     * its history keeps says {@code hibernated}. False when no status is kept any more.
     */
    boolean asleep(WireCodec codec) {
        for (int i = history.size() - 1; i >= 0; i--) {
            String text = new String(history.get(i).frame(), StandardCharsets.UTF_8);
            if (text.contains("\"status\"") && codec.decodeServer(text) instanceof ServerMessage.Status status) {
                return status.state() == SessionState.HIBERNATED;
            }
        }
        return false;
    }

    /** The requests {@link #history} shows, decoded with {@code codec}. */
    Requests requests(WireCodec codec) {
        List<String> resolved = new ArrayList<>();
        Set<String> open = new LinkedHashSet<>();
        for (ReplayBuffer.Entry entry : history) {
            String text = new String(entry.frame(), StandardCharsets.UTF_8);
            if (!text.contains("\"request")) {
                continue; // most frames: not worth decoding
            }
            ServerMessage frame = codec.decodeServer(text);
            if (frame instanceof ServerMessage.Request asked) {
                open.add(asked.requestId());
            } else if (frame instanceof ServerMessage.RequestResolved done) {
                open.remove(done.requestId());
                resolved.add(done.requestId());
            }
        }
        return new Requests(resolved, open);
    }
}
