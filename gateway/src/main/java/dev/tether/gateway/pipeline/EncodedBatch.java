package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Several history frames, each already encoded to UTF-8 JSON, to leave as one {@code batch} frame
 * (contract 8.4). Made by {@link BatchHandler}; {@link FrameCodec} joins the arrays into the frame
 * without copying them. At least two, in the order they were written.
 */
record EncodedBatch(List<byte[]> messages) {
    EncodedBatch {
        requireNonNull(messages, "messages");
        if (messages.size() < 2) {
            throw new IllegalArgumentException("a batch holds at least two messages: " + messages.size());
        }
    }
}
