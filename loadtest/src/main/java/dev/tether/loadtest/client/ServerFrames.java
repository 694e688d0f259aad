package dev.tether.loadtest.client;

import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;

/** How both clients read a text frame from the gateway. Thread-safe. */
public final class ServerFrames {

    private static final WireCodec CODEC = new WireCodec();

    private ServerFrames() {}

    /** The message in {@code text}, or null for one that does not decode, counted in the errors ({@code undecodable_frame}). */
    public static ServerMessage decode(String text, RunStats stats) {
        try {
            return CODEC.decodeServer(text);
        } catch (RuntimeException e) {
            stats.error("undecodable_frame");
            return null;
        }
    }
}
