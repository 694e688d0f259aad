package dev.tether.gateway.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenRejectedException.Reason;
import java.io.IOException;
import java.util.Base64;
import java.util.Set;

/**
 * The {@code alg} and {@code kid} of a compact JWS, read before jjwt parses it.
 *
 * <p>jjwt refuses {@code alg: none}, unknown algorithms and JWEs itself, but before it consults
 * our key locator and with exception types it also uses for other failures. Reading the header
 * first lets {@link TokenVerifier} name the right {@link Reason} and skip all crypto for tokens it
 * would never accept. This is only for classification: the key locator still enforces the
 * algorithm on jjwt's own reading of the header.
 */
record CompactHeader(String alg, String kid) {

    /** Registered JWA names, safe to repeat in a message; any other alg text is the token's own. */
    private static final Set<String> KNOWN_ALGS = Set.of(
            "none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
            "ES512", "ES256K", "EdDSA");

    private static final ObjectMapper JSON = new ObjectMapper();

    static CompactHeader read(String token) throws TokenRejectedException {
        int dots = 0;
        for (int i = 0; i < token.length(); i++) {
            if (token.charAt(i) == '.') {
                dots++;
            }
        }
        if (dots == 4) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, "encrypted tokens (JWE) are not accepted");
        }
        if (dots != 2) {
            throw new TokenRejectedException(Reason.MALFORMED, "token is not a compact JWS");
        }
        String segment = token.substring(0, token.indexOf('.'));
        if (segment.isEmpty()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token has no header");
        }
        JsonNode header;
        try {
            header = JSON.readTree(Base64.getUrlDecoder().decode(segment));
        } catch (IllegalArgumentException | IOException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token header is not base64url JSON");
        }
        if (header == null || !header.isObject()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token header is not a JSON object");
        }
        JsonNode alg = header.get("alg");
        if (alg == null || !alg.isTextual() || alg.textValue().isBlank()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token header has no alg");
        }
        JsonNode kid = header.get("kid");
        if (kid != null && !kid.isTextual()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token header kid is not a string");
        }
        return new CompactHeader(alg.textValue(), kid == null ? null : kid.textValue());
    }

    /** The refusal for an algorithm outside the configured set, naming it only if it is a JWA name. */
    static TokenRejectedException notAllowed(String alg) {
        String msg =
                alg != null && KNOWN_ALGS.contains(alg) ? "algorithm not allowed: " + alg : "algorithm not allowed";
        return new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, msg);
    }
}
