package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.protocol.RefusalBody;
import dev.tether.protocol.UpgradeRefusal;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.UncheckedIOException;

/**
 * Writes refused upgrades: a plain HTTP response with the status of the {@link UpgradeRefusal}, a
 * small JSON body, {@code Retry-After} where the contract asks for it, and then closes the
 * connection.
 */
final class Refusals {

    private final ObjectMapper mapper;
    private final long retryAfterSeconds;
    private final GatewayMetrics metrics;

    Refusals(ObjectMapper mapper, long retryAfterSeconds) {
        this(mapper, retryAfterSeconds, GatewayMetrics.NONE);
    }

    /** @param metrics counts every refusal by its code */
    Refusals(ObjectMapper mapper, long retryAfterSeconds, GatewayMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
        this.mapper = mapper;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    void refuse(ChannelHandlerContext ctx, UpgradeRefusal refusal, String message) {
        refuse(ctx, refusal, message, EmptyHttpHeaders.INSTANCE);
    }

    /** Like {@link #refuse(ChannelHandlerContext, UpgradeRefusal, String)}, with {@code extraHeaders} added. */
    void refuse(ChannelHandlerContext ctx, UpgradeRefusal refusal, String message, HttpHeaders extraHeaders) {
        refuse(ctx, refusal, message, extraHeaders, retryAfterSeconds);
    }

    /**
     * Like {@link #refuse(ChannelHandlerContext, UpgradeRefusal, String)}, with a {@code Retry-After}
     * of {@code retryAfterSeconds} (at least 1) instead of {@code sessions.retry_after}: for limits that
     * know when the caller may try again, such as the per-address connection rate.
     */
    void refuse(ChannelHandlerContext ctx, UpgradeRefusal refusal, String message, long retryAfterSeconds) {
        refuse(ctx, refusal, message, EmptyHttpHeaders.INSTANCE, Math.max(1, retryAfterSeconds));
    }

    private void refuse(
            ChannelHandlerContext ctx,
            UpgradeRefusal refusal,
            String message,
            HttpHeaders extraHeaders,
            long retryAfterSeconds) {
        metrics.upgradeRefused(refusal);
        byte[] body;
        try {
            body = mapper.writeValueAsBytes(RefusalBody.of(refusal, message));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(refusal.status()), Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        response.headers().add(extraHeaders);
        if (refusal.retryAfter()) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
        }
        if (refusal == UpgradeRefusal.UNAUTHORIZED) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
