package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CredentialsTest {

    private static final String JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
    private static final String OTHER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.b3RoZXI";

    @Test
    void authorizationHeader() {
        HttpHeaders h = headers().add(HttpHeaderNames.AUTHORIZATION, "Bearer " + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void schemeIsCaseInsensitiveAndSpacesAreTrimmed() {
        assertEquals(
                Optional.of(JWT),
                Credentials.bearerToken(headers().add(HttpHeaderNames.AUTHORIZATION, "bearer " + JWT), "/ws", false));
        assertEquals(
                Optional.of(JWT),
                Credentials.bearerToken(
                        headers().add(HttpHeaderNames.AUTHORIZATION, "BEARER   " + JWT + "  "), "/ws", false));
    }

    @Test
    void emptyOrOtherSchemesAreAbsent() {
        for (String value :
                new String[] {"Bearer", "Bearer ", "Bearer    ", "Basic YWxpY2U6cHc=", "Bearer" + JWT, ""}) {
            HttpHeaders h = headers().add(HttpHeaderNames.AUTHORIZATION, value);
            assertEquals(Optional.empty(), Credentials.bearerToken(h, "/ws", false), value);
        }
    }

    @Test
    void emptyBearerFallsThroughToSubprotocol() {
        HttpHeaders h = headers()
                .add(HttpHeaderNames.AUTHORIZATION, "Bearer ")
                .add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer." + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void subprotocolWithGatewayFirst() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer." + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void subprotocolWithGatewayLastAndOddSpacing() {
        HttpHeaders h =
                headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "bearer." + JWT + "  ,gateway.v1 ,   chat");
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void subprotocolWithoutSpaces() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "chat,bearer." + JWT + ",gateway.v1");
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void subprotocolAcrossSeveralHeaderLines() {
        HttpHeaders h = headers()
                .add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1")
                .add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "bearer." + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws", false));
        assertTrue(Credentials.offersSubprotocol(h, "gateway.v1"));
    }

    @Test
    void emptyBearerSubprotocolIsAbsent() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer.");
        assertEquals(Optional.empty(), Credentials.bearerToken(h, "/ws", false));
    }

    @Test
    void headerWinsOverSubprotocolAndQuery() {
        HttpHeaders h = headers()
                .add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer." + OTHER)
                .add(HttpHeaderNames.AUTHORIZATION, "Bearer " + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws?access_token=" + OTHER, true));
    }

    @Test
    void subprotocolWinsOverQuery() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1, bearer." + JWT);
        assertEquals(Optional.of(JWT), Credentials.bearerToken(h, "/ws?access_token=" + OTHER, true));
    }

    @Test
    void queryTokenOnlyWhenAllowed() {
        String uri = "/ws?session=s1&access_token=" + JWT + "&last_seq=4";
        assertEquals(Optional.empty(), Credentials.bearerToken(headers(), uri, false));
        assertEquals(Optional.of(JWT), Credentials.bearerToken(headers(), uri, true));
        assertEquals(Optional.empty(), Credentials.bearerToken(headers(), "/ws?access_token=", true));
        assertEquals(Optional.empty(), Credentials.bearerToken(headers(), "/ws", true));
    }

    @Test
    void absentWhenNothingIsOffered() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v1");
        assertEquals(Optional.empty(), Credentials.bearerToken(h, "/ws", true));
        assertEquals(Optional.empty(), Credentials.bearerToken(headers(), "/ws", false));
    }

    @Test
    void offersSubprotocolMatchesWholeEntries() {
        HttpHeaders h = headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "bearer." + JWT + " ,  gateway.v1\t, x");
        assertTrue(Credentials.offersSubprotocol(h, "gateway.v1"));
        assertFalse(Credentials.offersSubprotocol(h, "gateway"));
        assertFalse(Credentials.offersSubprotocol(h, "gateway.v2"));
        assertFalse(Credentials.offersSubprotocol(headers(), "gateway.v1"));
        assertFalse(Credentials.offersSubprotocol(
                headers().add(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "gateway.v10"), "gateway.v1"));
    }

    private static HttpHeaders headers() {
        return new DefaultHttpHeaders();
    }

    @Test
    void stripRemovesEveryCredentialAndKeepsOtherSubprotocols() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Authorization", "Bearer abc.def.ghi")
                .add("Sec-WebSocket-Protocol", "gateway.v1, bearer.abc.def.ghi")
                .add("Sec-WebSocket-Protocol", "bearer.xyz, other");
        Credentials.strip(headers);
        assertNull(headers.get("Authorization"));
        assertEquals(List.of("gateway.v1, other"), headers.getAll("Sec-WebSocket-Protocol"));
    }

    @Test
    void stripLeavesNoSubprotocolHeaderWhenOnlyTheTokenWasThere() {
        HttpHeaders headers = new DefaultHttpHeaders().add("Sec-WebSocket-Protocol", "bearer.abc.def.ghi");
        Credentials.strip(headers);
        assertFalse(headers.contains("Sec-WebSocket-Protocol"));
    }
}
