package dev.tether.loadtest.client;

import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import java.util.List;

/** How both clients read a text frame from the gateway. Thread-safe. */
public final class ServerFrames {

    private static final WireCodec CODEC = new WireCodec();

    private ServerFrames() {}

    /**
     * The messages in {@code text}: the one it holds, or those of a {@code batch} frame (contract
     * 8.4) in order; none for a frame that does not decode, counted in the errors ({@code
     * undecodable_frame}). Every frame and the messages it held are counted ({@link RunStats#frame}).
     */
    public static List<ServerMessage> decode(String text, RunStats stats) {
        List<ServerMessage> messages;
        try {
            messages = ServerMessage.Batch.unpack(CODEC.decodeServer(text));
        } catch (RuntimeException e) {
            stats.error("undecodable_frame");
            messages = List.of();
        }
        stats.frame(messages.size());
        return messages;
    }
}
