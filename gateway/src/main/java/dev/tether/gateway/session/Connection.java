package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ServerMessage;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One WebSocket connection as its session sees it: where to send frames, and the credentials it
 * was opened (or last refreshed) with.
 *
 * <p>Writes may come from the session's event loop, which need not be the channel's; Netty keeps
 * writes from one thread in order. Once {@link #close} was called nothing more is written, so no
 * data frame ever follows the close frame.
 */
public final class Connection {

    /**
     * Set on a channel that the outbound guard closed because its client did not read (a slow
     * consumer), before it closes: the session learns why the connection went.
     */
    public static final AttributeKey<Boolean> SLOW_CONSUMER = AttributeKey.valueOf("tether.slowConsumer");

    private final Channel channel;
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile VerifiedToken token;

    public Connection(Channel channel, VerifiedToken token) {
        this.channel = requireNonNull(channel, "channel");
        this.token = requireNonNull(token, "token");
    }

    /** The credentials in force on this connection. */
    public VerifiedToken token() {
        return token;
    }

    /** Replaces the credentials after an accepted {@code auth_refresh}. */
    public void token(VerifiedToken token) {
        this.token = requireNonNull(token, "token");
    }

    /** The peer address, for logs. */
    public String remoteAddress() {
        return String.valueOf(channel.remoteAddress());
    }

    /** Sends a connection-level message now. */
    public void send(ServerMessage message) {
        if (!closing.get()) {
            Unwatched.writeAndFlush(channel, message);
        }
    }

    /**
     * Sends one live history frame now: a single hand-over to the channel's loop, where write plus
     * flush would be two.
     */
    public void send(EncodedFrame frame) {
        if (!closing.get()) {
            Unwatched.writeAndFlush(channel, frame);
        }
    }

    /** Answers a WebSocket ping: a pong with the ping's {@code payload}. */
    public void pong(byte[] payload) {
        if (!closing.get()) {
            Unwatched.writeAndFlush(channel, new PongWebSocketFrame(Unpooled.wrappedBuffer(payload)));
        }
    }

    /** Queues an encoded history frame (a replay); {@link #flush()} sends what is queued. */
    public void write(EncodedFrame frame) {
        if (!closing.get()) {
            Unwatched.write(channel, frame);
        }
    }

    /** Sends everything queued with {@link #write}. */
    public void flush() {
        channel.flush();
    }

    /** Sends a close frame with {@code code} and closes the channel once it is written. Idempotent. */
    public void close(CloseCode code) {
        if (closing.compareAndSet(false, true)) {
            channel.writeAndFlush(new CloseWebSocketFrame(code.code(), code.reason()))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Whether the connection is still there (not closed by either side). */
    public boolean open() {
        return channel.isActive();
    }

    /** Whether the outbound guard cut this connection for not reading ({@link #SLOW_CONSUMER}). */
    public boolean cutAsSlowConsumer() {
        return Boolean.TRUE.equals(channel.attr(SLOW_CONSUMER).get());
    }

    /** Whether {@link #close} was called. */
    public boolean closing() {
        return closing.get();
    }

    @Override
    public String toString() {
        return "Connection[" + channel.id().asShortText() + " " + remoteAddress() + "]";
    }
}
