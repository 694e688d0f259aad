package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpCall;
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
import java.util.concurrent.CompletableFuture;
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

    @Test
    void pathParametersMethodsAndAsyncAnswers() {
        CompletableFuture<HttpAnswer> later = new CompletableFuture<>();
        EmbeddedChannel admin = new EmbeddedChannel(new HttpRouteHandler(HttpRoutes.builder()
                .add(
                        HttpMethod.GET,
                        "/things/{id}",
                        (HttpCall call) -> CompletableFuture.completedFuture(
                                HttpAnswer.text(HttpResponseStatus.OK, "text/plain", call.param("id"))))
                .add(HttpMethod.DELETE, "/things/{id}", call -> later)
                .notFound(HttpAnswer.text(HttpResponseStatus.NOT_FOUND, "text/plain", "none"))
                .build()));

        admin.writeInbound(request(HttpMethod.GET, "/things/abc?x=1"));
        assertAnswer(admin, HttpResponseStatus.OK, "abc");

        admin.writeInbound(request(HttpMethod.GET, "/things"));
        assertAnswer(admin, HttpResponseStatus.NOT_FOUND, "none");
        admin.writeInbound(request(HttpMethod.GET, "/things/abc/more"));
        assertAnswer(admin, HttpResponseStatus.NOT_FOUND, "none");

        admin.writeInbound(request(HttpMethod.POST, "/things/abc"));
        FullHttpResponse wrong = admin.readOutbound();
        assertEquals(HttpResponseStatus.METHOD_NOT_ALLOWED, wrong.status());
        assertEquals("GET, HEAD, DELETE", wrong.headers().get("Allow"));
        wrong.release();

        FullHttpRequest pending = request(HttpMethod.DELETE, "/things/abc");
        admin.writeInbound(pending);
        assertNull(admin.readOutbound(), "nothing until the answer is ready");
        assertFalse(admin.config().isAutoRead(), "no further request is read meanwhile");
        assertEquals(1, pending.refCnt(), "the request is kept while the endpoint works");
        later.complete(HttpAnswer.text(HttpResponseStatus.ACCEPTED, "text/plain", "gone"));
        admin.runPendingTasks();
        assertAnswer(admin, HttpResponseStatus.ACCEPTED, "gone");
        assertEquals(0, pending.refCnt());
        assertTrue(admin.config().isAutoRead());
        assertFalse(admin.finish());
        assertFalse(channel.finish());
    }

    @Test
    void aFailingEndpointIs500() {
        EmbeddedChannel failing = new EmbeddedChannel(new HttpRouteHandler(HttpRoutes.builder()
                .add("/boom", request -> {
                    throw new IllegalStateException("boom");
                })
                .build()));
        FullHttpRequest request = request(HttpMethod.GET, "/boom");
        failing.writeInbound(request);
        assertAnswer(failing, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n");
        assertEquals(0, request.refCnt());
        assertFalse(failing.finish());
        assertFalse(channel.finish());
    }

    private static void assertAnswer(EmbeddedChannel channel, HttpResponseStatus status, String body) {
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(status, response.status());
            assertEquals(body, response.content().toString(StandardCharsets.UTF_8));
        } finally {
            response.release();
        }
    }
}
