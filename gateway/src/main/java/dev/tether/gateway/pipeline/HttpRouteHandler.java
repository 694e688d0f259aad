package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpEndpoint;
import dev.tether.gateway.http.HttpRoutes;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;
import java.util.Optional;

/**
 * Serves the plain HTTP endpoints of {@link HttpRoutes} (pipeline stage {@link
 * GatewayPipeline#HTTP_ROUTES}): a request for a routed path is answered here and never reaches
 * the upgrade stage; anything else travels on unchanged. Only {@code GET} (and {@code HEAD}) are
 * served; other methods on a routed path get 405. Keep-alive is honoured, so probes and scrapers
 * can reuse their connection.
 *
 * <p>Stateless and sharable; runs on the channel's event loop, like the endpoints it calls.
 */
@ChannelHandler.Sharable
final class HttpRouteHandler extends ChannelInboundHandlerAdapter {

    private final HttpRoutes routes;

    HttpRouteHandler(HttpRoutes routes) {
        this.routes = requireNonNull(routes, "routes");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request) || !request.decoderResult().isSuccess()) {
            ctx.fireChannelRead(msg);
            return;
        }
        String path = pathOf(request.uri());
        Optional<HttpEndpoint> endpoint = routes.find(path);
        if (endpoint.isEmpty()) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            boolean head = HttpMethod.HEAD.equals(request.method());
            HttpAnswer answer = HttpMethod.GET.equals(request.method()) || head
                    ? endpoint.get().handle(request)
                    : HttpAnswer.text(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n")
                            .withHeader("Allow", "GET, HEAD");
            write(ctx, request, answer, head);
        } finally {
            request.release();
        }
    }

    private static void write(ChannelHandlerContext ctx, FullHttpRequest request, HttpAnswer answer, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        for (Map.Entry<String, String> header : answer.headers().entrySet()) {
            response.headers().set(header.getKey(), header.getValue());
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
