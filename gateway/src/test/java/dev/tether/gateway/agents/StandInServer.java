package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.agents.ServedReply.Outcome;
import dev.tether.gateway.async.Unwatched;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The HTTP side shared by the model-API stand-ins ({@link AnthropicStandIn}, {@link OpenAiStandIn}):
 * a Netty server on {@code 127.0.0.1:0} that records every request it gets and answers each with
 * the {@link Answer} its route picks: a JSON body, a server-sent-event stream (its events spaced
 * out on the channel's event loop when asked, never with a sleep), a stream cut off in the middle,
 * or a WebSocket upgrade refused. Every connection carries one exchange and is closed after it.
 *
 * <p>Threads: requests are decoded and answered on the server's one event loop; {@link #requests()}
 * and the futures of an {@link ServedReply} may be read from any thread.
 */
final class StandInServer implements AutoCloseable {

    /** Longest request body accepted (Claude Code's first request is about 60 KB; Codex's similar). */
    private static final int MAX_BODY = 16 * 1024 * 1024;

    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final Channel listener;
    private final Function<RecordedRequest, Answer> route;
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();

    private StandInServer(String name, Function<RecordedRequest, Answer> route) throws InterruptedException {
        this.route = route;
        this.listener = bind(name);
    }

    private Channel bind(String name) throws InterruptedException {
        try {
            return new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline()
                                    .addLast("http", new HttpServerCodec())
                                    .addLast("aggregator", new HttpObjectAggregator(MAX_BODY))
                                    .addLast(name, new Handler());
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .sync()
                    .channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    /** Starts a server whose answers {@code route} picks, on a free loopback port. */
    static StandInServer start(String name, Function<RecordedRequest, Answer> route) {
        requireNonNull(route, "route");
        try {
            return new StandInServer(name, route);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + name, e);
        }
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Every request so far, in arrival order. */
    List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** How one request is answered. */
    sealed interface Answer {
        /** A complete JSON response; {@code reply}, when not null, follows it. */
        record Json(int status, String body, ServedReply reply) implements Answer {
            Json(int status, String body) {
                this(status, body, null);
            }
        }

        /**
         * A {@code text/event-stream} response: {@code events} ({@code event:}/{@code data:} blocks)
         * with {@code gap} between them; then the end of the body, or with {@code cut} the
         * connection closed without it (a truncated chunked body, as when a network path drops).
         */
        record Stream(List<SseEvent> events, Duration gap, boolean cut, ServedReply reply) implements Answer {}

        /** A WebSocket upgrade turned down at once: {@code 426 Upgrade Required}, no upgrade. */
        record RefuseUpgrade() implements Answer {}

        /** The connection closed without any response (a cut before the first byte). */
        record Drop(ServedReply reply) implements Answer {}
    }

    /** One server-sent event: its {@code event:} name and its {@code data:} line (one line of JSON). */
    record SseEvent(String name, String data) {
        String wire() {
            return "event: " + name + "\ndata: " + data + "\n\n";
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
            Map<String, String> headers = new LinkedHashMap<>();
            msg.headers().forEach(h -> headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
            RecordedRequest request = new RecordedRequest(
                    msg.method().name(), msg.uri(), headers, msg.content().toString(StandardCharsets.UTF_8));
            requests.add(request);
            Answer answer;
            try {
                answer = route.apply(request);
            } catch (RuntimeException e) {
                answer = new Answer.Json(500, "{\"error\":{\"message\":\"the stand-in failed to answer\"}}");
                e.printStackTrace();
            }
            if (answer instanceof Answer.Json json) {
                sendJson(ctx, json);
                if (json.reply() != null) {
                    json.reply().started().complete(request);
                }
            } else if (answer instanceof Answer.RefuseUpgrade) {
                sendJson(
                        ctx,
                        new Answer.Json(426, "{\"error\":{\"message\":\"this stand-in speaks plain HTTP only\"}}"));
            } else if (answer instanceof Answer.Drop drop) {
                drop.reply().started().complete(request);
                ctx.close().addListener(f -> drop.reply().finished().complete(Outcome.CUT));
            } else {
                startStream(ctx, request, (Answer.Stream) answer);
            }
        }

        private void sendJson(ChannelHandlerContext ctx, Answer.Json json) {
            FullHttpResponse response = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(json.status()),
                    Unpooled.copiedBuffer(json.body(), StandardCharsets.UTF_8));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .set("request-id", "req_standin_" + requests.size());
            ctx.writeAndFlush(response).addListener(f -> {
                if (json.reply() != null) {
                    json.reply().finished().complete(Outcome.COMPLETED);
                }
                Unwatched.close(ctx);
            });
        }

        private void startStream(ChannelHandlerContext ctx, RecordedRequest request, Answer.Stream stream) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                    .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .set("request-id", "req_standin_" + requests.size());
            ctx.write(head).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            ServedReply reply = stream.reply();
            ctx.channel().closeFuture().addListener(f -> reply.finished().complete(Outcome.CLOSED_BY_CLIENT));
            writeFrom(ctx, stream, 0);
            reply.started().complete(request);
        }

        /** Writes event {@code index} onwards; with a gap, each next one on a timer of the event loop. */
        private void writeFrom(ChannelHandlerContext ctx, Answer.Stream stream, int index) {
            if (!ctx.channel().isActive()) {
                return;
            }
            List<SseEvent> events = stream.events();
            if (index == events.size()) {
                if (stream.cut()) {
                    stream.reply().finished().complete(Outcome.CUT);
                    ctx.flush();
                    Unwatched.close(ctx);
                } else {
                    stream.reply().finished().complete(Outcome.COMPLETED);
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ctx.writeAndFlush(new DefaultHttpContent(
                            Unpooled.copiedBuffer(events.get(index).wire(), StandardCharsets.UTF_8)))
                    .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            if (stream.gap().isZero()) {
                writeFrom(ctx, stream, index + 1);
            } else {
                ctx.executor()
                        .schedule(
                                () -> writeFrom(ctx, stream, index + 1),
                                stream.gap().toNanos(),
                                TimeUnit.NANOSECONDS)
                        .addListener(Unwatched.LOG_FAILURE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A client that resets its connection mid-stream (an interrupt) lands here: nothing to do.
            Unwatched.close(ctx);
        }
    }
}
