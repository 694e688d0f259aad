package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpCall;
import dev.tether.gateway.http.HttpResponses;
import dev.tether.gateway.http.HttpRoutes;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the plain HTTP endpoints of {@link HttpRoutes} (pipeline stage {@link
 * GatewayPipeline#HTTP_ROUTES}, and the router of the admin listener): a request for a routed path
 * is answered here; a routed path with another method gets 405; an unrouted path travels on
 * unchanged, or gets the routes' {@link HttpRoutes#notFound() not-found answer} when they have one.
 * An endpoint that fails gets {@link HttpRoutes#failed()} (500), logged.
 * Keep-alive is honoured, so probes and scrapers can reuse their connection.
 *
 * <p>Stateless and sharable; runs on the channel's event loop. An endpoint's answer that is not
 * ready at once is written when it completes, back on the channel's loop; until then the channel
 * stops reading, so answers on a keep-alive connection keep the order of the requests.
 */
@ChannelHandler.Sharable
public final class HttpRouteHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(HttpRouteHandler.class);

    private final HttpRoutes routes;

    public HttpRouteHandler(HttpRoutes routes) {
        this.routes = requireNonNull(routes, "routes");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)
                || !request.decoderResult().isSuccess()) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean head = HttpMethod.HEAD.equals(request.method());
        HttpRoutes.Match match = routes.match(request.method(), pathOf(request.uri()));
        CompletionStage<HttpAnswer> answer;
        if (match instanceof HttpRoutes.Match.Found found) {
            try {
                answer = found.endpoint().handle(new HttpCall(request, found.pathParams()));
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
        } else if (match instanceof HttpRoutes.Match.WrongMethod wrong) {
            answer = CompletableFuture.completedFuture(wrong.answer());
        } else if (routes.notFound() != null) {
            answer = CompletableFuture.completedFuture(routes.notFound());
        } else {
            ctx.fireChannelRead(msg);
            return;
        }
        CompletableFuture<HttpAnswer> pending = answer.toCompletableFuture();
        if (pending.isDone()) {
            finish(ctx, request, pending, keepAlive, head);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        Unwatched.whenComplete(
                pending,
                (ignored, error) -> ctx.executor().execute(() -> {
                    finish(ctx, request, pending, keepAlive, head);
                    ctx.channel().config().setAutoRead(true);
                }));
    }

    private void finish(
            ChannelHandlerContext ctx,
            FullHttpRequest request,
            CompletableFuture<HttpAnswer> done,
            boolean keepAlive,
            boolean head) {
        try {
            HttpAnswer answer;
            try {
                answer = done.join();
            } catch (RuntimeException e) {
                log.warn("{} {} failed: {}", request.method(), pathOf(request.uri()), e.toString());
                answer = routes.failed();
            }
            HttpResponses.write(ctx, answer, keepAlive, head);
        } finally {
            request.release();
        }
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }
}
