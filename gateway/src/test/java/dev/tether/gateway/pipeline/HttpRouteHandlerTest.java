package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpRoutes;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpRouteHandlerTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new HttpRouteHandler(HttpRoutes.builder()
            .add("/healthz", request -> HttpAnswer.text(HttpResponseStatus.OK, "text/plain", "alive"))
            .build()));

    private static FullHttpRequest request(HttpMethod method, String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
    }

    @Test
    void aRoutedGetIsAnsweredAndKeptAlive() {
        FullHttpRequest request = request(HttpMethod.GET, "/healthz?verbose=1");
        channel.writeInbound(request);
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(HttpResponseStatus.OK, response.status());
            assertEquals("alive", response.content().toString(StandardCharsets.UTF_8));
            assertEquals("no-store", response.headers().get(HttpHeaderNames.CACHE_CONTROL));
        } finally {
            response.release();
        }
        assertEquals(0, request.refCnt(), "the request is released");
        assertTrue(channel.isOpen(), "HTTP/1.1 keep-alive is honoured");
        assertFalse(channel.finish());
    }

    @Test
    void connectionCloseIsHonoured() {
        FullHttpRequest request = request(HttpMethod.GET, "/healthz");
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        channel.writeInbound(request);
        FullHttpResponse response = channel.readOutbound();
        response.release();
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void headHasNoBodyButTheLength() {
        channel.writeInbound(request(HttpMethod.HEAD, "/healthz"));
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(0, response.content().readableBytes());
            assertEquals("5", response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        } finally {
            response.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void otherMethodsOnARoutedPathAre405() {
        channel.writeInbound(request(HttpMethod.POST, "/healthz"));
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(HttpResponseStatus.METHOD_NOT_ALLOWED, response.status());
            assertEquals("GET, HEAD", response.headers().get("Allow"));
        } finally {
            response.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void unroutedRequestsTravelOnUntouched() {
        FullHttpRequest request = request(HttpMethod.GET, "/ws");
        channel.writeInbound(request);
        assertSame(request, channel.readInbound());
        assertEquals(1, request.refCnt());
        request.release();
        assertFalse(channel.finish());
    }
}
