package dev.tether.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenVerifier;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminAuthHandlerTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OTHER_SECRET = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.UTF_8);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TokenMinter minter = new TokenMinter(SECRET, "HS256", CLOCK);
    private final EmbeddedChannel channel = new EmbeddedChannel(new AdminAuthHandler(
            new TokenVerifier(Set.of("HS256"), SECRET, List.of(), null, null, Duration.ZERO, CLOCK),
            "roles",
            "admin",
            JSON));

    @AfterEach
    void finish() {
        assertFalse(channel.finish());
    }

    private static FullHttpRequest request(String authorization) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/admin/sessions");
        if (authorization != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        }
        return request;
    }

    private String token(Map<String, Object> claims) {
        return minter.mint("ops", Duration.ofMinutes(5), claims);
    }

    private void assertPassedOn(String authorization) {
        FullHttpRequest request = request(authorization);
        channel.writeInbound(request);
        assertSame(request, channel.readInbound(), "handed to the router");
        assertNull(channel.readOutbound());
        request.release();
    }

    /** The refusal's status and JSON body; checks the request was released and went no further. */
    private JsonNode refused(String authorization, HttpResponseStatus status) throws Exception {
        FullHttpRequest request = request(authorization);
        channel.writeInbound(request);
        assertNull(channel.readInbound());
        assertEquals(0, request.refCnt(), "the request is released");
        FullHttpResponse response = channel.readOutbound();
        try {
            assertEquals(status, response.status());
            assertEquals("application/json", response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            return JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
        } finally {
            response.release();
        }
    }

    @Test
    void anAdminRoleInAnArrayOrAsAStringIsLetThrough() {
        assertPassedOn("Bearer " + token(Map.of("roles", List.of("viewer", "admin"))));
        assertPassedOn("bearer " + token(Map.of("roles", "admin")));
    }

    @Test
    void aValidTokenWithoutTheRoleIs403() throws Exception {
        for (Map<String, Object> claims : List.<Map<String, Object>>of(
                Map.of(),
                Map.of("roles", "viewer"),
                Map.of("roles", List.of("viewer")),
                Map.of("roles", "administrator"),
                Map.of("role", "admin"))) {
            JsonNode body = refused("Bearer " + token(claims), HttpResponseStatus.FORBIDDEN);
            assertEquals("forbidden", body.get("error").asText(), claims.toString());
        }
    }

    @Test
    void noTokenIs401() throws Exception {
        for (String authorization : new String[] {null, "", "Bearer ", "Basic b3BzOnNlY3JldA=="}) {
            JsonNode body = refused(authorization, HttpResponseStatus.UNAUTHORIZED);
            assertEquals("unauthorized", body.get("error").asText());
            assertEquals("missing bearer token", body.get("message").asText());
        }
    }

    @Test
    void aForgedOrExpiredTokenIs401WithoutEchoingIt() throws Exception {
        String forged = new TokenMinter(OTHER_SECRET, "HS256", CLOCK)
                .mint("ops", Duration.ofMinutes(5), Map.of("roles", "admin"));
        String expired = new TokenMinter(SECRET, "HS256", Clock.offset(CLOCK, Duration.ofHours(-2)))
                .mint("ops", Duration.ofMinutes(5), Map.of("roles", "admin"));
        for (String token : new String[] {forged, expired, "not.a.token"}) {
            JsonNode body = refused("Bearer " + token, HttpResponseStatus.UNAUTHORIZED);
            assertEquals("unauthorized", body.get("error").asText());
            assertFalse(body.toString().contains(token), "the token is never echoed");
            for (String part : token.split("\\.", -1)) {
                assertFalse(part.length() > 8 && body.toString().contains(part), "no part of it either");
            }
        }
    }
}
