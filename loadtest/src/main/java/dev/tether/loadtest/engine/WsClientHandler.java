package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of an engine connection: performs the upgrade with its handshaker, then turns
 * text frames into {@link Link.Listener#frame} calls and answers pings; it is also the connection's
 * {@link Link}. A refused upgrade is reported with its HTTP status; an upgrade not answered within
 * the timeout (a timer on this channel's event loop, cancelled when it completes) as status 0.
 *
 * <p>Runs on its channel's event loop only: every field is confined to it.
 */
final class WsClientHandler extends SimpleChannelInboundHandler<Object> implements Link {

    /** How long a clean close waits for the server's close before the TCP connection is dropped. */
    static final long CLOSE_WAIT_MS = 2_000;

    private final WebSocketClientHandshaker handshaker;
    private final Link.Listener listener;
    private final long handshakeTimeoutMs;
    private Channel channel;
    private ScheduledFuture<?> handshakeTimer;
    private boolean opened;
    private boolean reported;
    private int closeCode = 1006;
    private boolean closeSent;

    WsClientHandler(WebSocketClientHandshaker handshaker, Link.Listener listener, long handshakeTimeoutMs) {
        this.handshaker = requireNonNull(handshaker, "handshaker");
        this.listener = requireNonNull(listener, "listener");
        this.handshakeTimeoutMs = handshakeTimeoutMs;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        handshakeTimer = ctx.executor()
                .schedule(
                        () -> {
                            if (!opened) {
                                refuse(
                                        0,
                                        new IllegalStateException(
                                                "no upgrade answer within " + handshakeTimeoutMs + " ms"));
                                Unwatched.close(ctx);
                            }
                        },
                        handshakeTimeoutMs,
                        TimeUnit.MILLISECONDS);
        handshaker.handshake(channel).addListener(f -> {
            if (!f.isSuccess()) {
                refuse(0, f.cause());
                Unwatched.close(ctx);
            }
        });
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (!opened) {
            if (msg instanceof FullHttpResponse response) {
                upgrade(ctx, response);
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame text) {
            listener.frame(text.text(), System.nanoTime());
        } else if (msg instanceof PingWebSocketFrame ping) {
            Unwatched.writeAndFlush(ctx, new PongWebSocketFrame(ping.content().retain()));
        } else if (msg instanceof CloseWebSocketFrame close) {
            closeCode = close.statusCode() < 0 ? 1005 : close.statusCode();
            if (closeSent) {
                Unwatched.close(ctx);
            } else {
                // Echo the close, as a client should, then end the TCP connection.
                closeSent = true;
                ctx.writeAndFlush(new CloseWebSocketFrame(closeCode, "")).addListener(ChannelFutureListener.CLOSE);
            }
        } else if (msg instanceof WebSocketFrame) {
            // Binary and continuation frames: no peer of the load test sends them.
        }
    }

    private void upgrade(ChannelHandlerContext ctx, FullHttpResponse response) {
        try {
            handshaker.finishHandshake(ctx.channel(), response);
        } catch (WebSocketClientHandshakeException e) {
            HttpResponse answer = e.response();
            refuse(answer == null ? response.status().code() : answer.status().code(), e);
            Unwatched.close(ctx);
            return;
        }
        opened = true;
        handshakeTimer.cancel(false);
        listener.opened(this);
    }

    private void refuse(int status, Throwable cause) {
        if (!reported) {
            reported = true;
            if (handshakeTimer != null) {
                handshakeTimer.cancel(false);
            }
            listener.refused(status, cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (opened && !reported) {
            reported = true;
            listener.closed(closeCode);
        } else {
            refuse(0, new IllegalStateException("connection closed before the upgrade completed"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!opened) {
            refuse(0, cause);
        }
        Unwatched.close(ctx);
    }

    @Override
    public void send(String text) {
        if (channel != null && channel.isActive()) {
            Unwatched.writeAndFlush(channel, new TextWebSocketFrame(text));
        }
    }

    @Override
    public void close(int code) {
        if (channel == null || !channel.isActive() || closeSent) {
            return;
        }
        closeSent = true;
        Channel ch = channel;
        ch.writeAndFlush(new CloseWebSocketFrame(code, "")).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        ScheduledFuture<?> timer =
                ch.eventLoop().schedule(() -> Unwatched.close(ch), CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> timer.cancel(false));
    }

    @Override
    public void abort() {
        if (channel != null) {
            Unwatched.close(channel);
        }
    }
}
