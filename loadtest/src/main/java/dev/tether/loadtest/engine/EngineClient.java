package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.client.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateClientExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load-test engine's network side: a few Netty event loops (epoll when available, else NIO)
 * and the bootstrap that opens WebSocket connections on a given loop, so that every connection of
 * one session lives on that session's loop. The pipeline of a connection, in order:
 * {@code wire} (counts the bytes on the socket), {@code tls} (an {@code SslHandler}, for {@code wss://}
 * only, trusting what {@link ClientTls} says), {@code http} ({@link HttpClientCodec}), {@code aggregator}
 * (the upgrade response only), with {@code --compression} {@code deflate} (Netty's permessage-deflate
 * client side, which puts its inflater and deflater in when the server agrees), then {@code ws}
 * ({@link WsClientHandler}, which the handshaker puts the frame codec in front of).
 *
 * <p>Thread-safe: {@link #connect} may be called from any thread, and registers the channel on the
 * loop it is given.
 */
public final class EngineClient implements AutoCloseable {

    /** Largest frame accepted from a server: a resume replays many small frames, never one huge one. */
    static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;

    private final EventLoopGroup group;
    private final Class<? extends Channel> channelType;
    private final boolean epoll;
    private final boolean compression;
    private final WireBytes wire = new WireBytes();

    /** @param threads event loops (1 is enough for thousands of connections at tens of thousands of frames a second) */
    public EngineClient(int threads) {
        this(threads, false);
    }

    /**
     * @param compression offer permessage-deflate (RFC 7692) in every upgrade, as a browser does, and
     *     use it when the server agrees
     */
    public EngineClient(int threads, boolean compression) {
        this.compression = compression;
        if (threads < 1) {
            throw new IllegalArgumentException("--client-threads: " + threads + " (expected: >= 1)");
        }
        this.epoll = Epoll.isAvailable();
        DefaultThreadFactory factory = new DefaultThreadFactory("engine", true);
        this.group = epoll ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
        this.channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** Whether upgrades offer permessage-deflate. */
    public boolean compression() {
        return compression;
    }

    /** Bytes read from every connection's socket so far: frames as they were on the wire (compressed or not). */
    public long wireBytesIn() {
        return wire.in();
    }

    /** Bytes written to every connection's socket so far. */
    public long wireBytesOut() {
        return wire.out();
    }

    /** {@code epoll} or {@code nio}. */
    public String transport() {
        return epoll ? "epoll" : "nio";
    }

    /** The next event loop, round robin: where a new session lives. */
    public EventLoop nextLoop() {
        return group.next();
    }

    /**
     * Opens a WebSocket connection to {@code uri} on {@code loop}; every outcome reaches
     * {@code listener} on that loop.
     *
     * @param bearer a token for {@code Authorization: Bearer}, or null for none (websocketd)
     */
    void connect(EventLoop loop, URI uri, String bearer, Duration timeout, Link.Listener listener) {
        requireNonNull(loop, "loop");
        requireNonNull(uri, "uri");
        requireNonNull(listener, "listener");
        HttpHeaders headers = new DefaultHttpHeaders();
        if (bearer != null) {
            headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + bearer);
        }
        // No Origin header (a browser's; the gateway checks it only when present), masking as RFC 6455 requires.
        WebSocketClientHandshaker handshaker = WebSocketClientHandshakerFactory.newHandshaker(
                uri, WebSocketVersion.V13, null, compression, headers, MAX_FRAME_BYTES, true, false, -1, false, false);
        long timeoutMs = Math.max(1, timeout.toMillis());
        WsClientHandler handler = new WsClientHandler(handshaker, listener, timeoutMs);
        boolean secure = "wss".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() > 0 ? uri.getPort() : secure ? 443 : 80;
        new Bootstrap()
                .group(loop)
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMs))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("wire", wire);
                        if (secure) {
                            ch.pipeline().addLast("tls", ClientTls.netty().newHandler(ch.alloc(), uri.getHost(), port));
                        }
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(64 * 1024));
                        if (compression) {
                            ch.pipeline().addLast("deflate", deflate());
                        }
                        ch.pipeline().addLast("ws", handler);
                    }
                })
                .connect(uri.getHost(), port)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        listener.refused(0, f.cause());
                    }
                });
    }

    /**
     * Netty's permessage-deflate client side, accepting {@code client_no_context_takeover} in the
     * answer (RFC 7692 7.1.1.2 lets a server ask it unasked, and the gateway does by default;
     * Netty's {@code WebSocketClientCompressionHandler} would refuse such an answer).
     */
    private static WebSocketClientExtensionHandler deflate() {
        return new WebSocketClientExtensionHandler(new PerMessageDeflateClientExtensionHandshaker(
                6,
                ZlibCodecFactory.isSupportingWindowSizeAndMemLevel(),
                PerMessageDeflateServerExtensionHandshaker.MAX_WINDOW_SIZE,
                true,
                false,
                MAX_FRAME_BYTES));
    }

    /** Counts the bytes that cross every connection's socket (first in the pipeline, so after deflating). */
    @ChannelHandler.Sharable
    private static final class WireBytes extends ChannelDuplexHandler {
        private final LongAdder in = new LongAdder();
        private final LongAdder out = new LongAdder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes) {
                in.add(bytes.readableBytes());
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof ByteBuf bytes) {
                out.add(bytes.readableBytes());
            } else if (msg instanceof ByteBufHolder holder) {
                out.add(holder.content().readableBytes());
            }
            super.write(ctx, msg, promise);
        }

        long in() {
            return in.sum();
        }

        long out() {
            return out.sum();
        }
    }

    /** Closes every connection and stops the event loops (waits at most a few seconds). */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
