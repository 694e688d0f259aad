package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.config.ConfigException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ForwardedClaimsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl";

    private static VerifiedToken token(Map<String, Object> claims) {
        return new VerifiedToken("alice", Instant.parse("2030-01-01T00:00:00Z"), claims);
    }

    @Test
    void onlyTheNamedClaimsThatTheTokenHasAreForwarded() throws Exception {
        ForwardedClaims forwarded = new ForwardedClaims(List.of("org", "groups", "absent"));
        assertEquals(
                JSON.readTree("{\"org\":\"acme\",\"groups\":[\"a\",\"b\"]}"),
                forwarded.of(token(Map.of("org", "acme", "groups", List.of("a", "b"), "email", "x@y")), "S1"));
    }

    @Test
    void aValueThatLooksLikeACredentialIsDroppedAnywhereInIt() throws Exception {
        ForwardedClaims forwarded = new ForwardedClaims(List.of("org", "groups", "meta"));
        assertEquals(
                JSON.readTree("{\"org\":\"acme\"}"),
                forwarded.of(
                        token(Map.of(
                                "org", "acme",
                                "groups", List.of("a", "Bearer " + JWT),
                                "meta", Map.of("key", "-----BEGIN PRIVATE KEY-----\nMII..."))),
                        "S1"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"access_token", "id_token", "client_secret", "refresh_TOKEN", "api_key", "view", "sid_session"})
    void namesThatCouldHoldACredentialAreRefusedAtStartUp(String name) {
        ConfigException e = assertThrows(ConfigException.class, () -> ForwardedClaims.check(List.of("org", name)));
        assertEquals(
                "auth.forward_claims: " + name
                        + " (expected: a claim that cannot hold a credential (see auth.forward_claims in docs/configuration.md))",
                e.getMessage());
    }

    @Test
    void ordinaryNamesAreAccepted() {
        ForwardedClaims.check(List.of("org", "role", "groups", "https://example.com/tenant", "email_verified"));
    }
}
