package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds the bearer token on a WebSocket upgrade request (protocol section 1), in this order:
 * <ol>
 *   <li>{@code Authorization: Bearer <jwt>} (scheme case-insensitive), for non-browser clients;</li>
 *   <li>a {@code bearer.<jwt>} entry in {@code Sec-WebSocket-Protocol}, for browsers, which cannot
 *       set headers (the server must answer with {@code gateway.v1} only, never echoing it);</li>
 *   <li>the {@code access_token} query parameter, only where the operator enabled it: URLs end up
 *       in access logs and browser history.</li>
 * </ol>
 * A source with an empty token counts as absent. This class only finds the token; it does not
 * judge it ({@link TokenVerifier} does), and it never logs it.
 *
 * <p>Stateless and thread-safe; called on the event loop handling the upgrade.
 */
public final class Credentials {

    private static final String BEARER_SUBPROTOCOL_PREFIX = "bearer.";
    private static final String QUERY_PARAMETER = "access_token";

    private static final String BEARER_SCHEME = "Bearer";

    private Credentials() {}

    /**
     * The request's bearer token, from the first source that has one.
     *
     * @param headers         the upgrade request's headers
     * @param uri             the request URI (path and query), read only if {@code allowQueryToken}
     * @param allowQueryToken whether the {@code access_token} query parameter is accepted
     */
    public static Optional<String> bearerToken(HttpHeaders headers, String uri, boolean allowQueryToken) {
        requireNonNull(headers, "headers");
        for (String authorization : headers.getAll(HttpHeaderNames.AUTHORIZATION)) {
            Optional<String> token = fromAuthorization(authorization);
            if (token.isPresent()) {
                return token;
            }
        }
        for (String entry : subprotocols(headers)) {
            if (entry.startsWith(BEARER_SUBPROTOCOL_PREFIX) && entry.length() > BEARER_SUBPROTOCOL_PREFIX.length()) {
                return Optional.of(entry.substring(BEARER_SUBPROTOCOL_PREFIX.length()));
            }
        }
        if (allowQueryToken && uri != null) {
            List<String> values = new QueryStringDecoder(uri).parameters().getOrDefault(QUERY_PARAMETER, List.of());
            for (String value : values) {
                if (!value.isBlank()) {
                    return Optional.of(value.strip());
                }
            }
        }
        return Optional.empty();
    }

    /** Whether the client's {@code Sec-WebSocket-Protocol} list contains exactly {@code name}. */
    public static boolean offersSubprotocol(HttpHeaders headers, String name) {
        requireNonNull(headers, "headers");
        requireNonNull(name, "name");
        return subprotocols(headers).contains(name);
    }

    /**
     * Removes every credential from {@code headers}: the {@code Authorization} header and the
     * {@code bearer.*} entries of {@code Sec-WebSocket-Protocol} (other subprotocols stay). Called
     * once the token was read, so that nothing downstream (Netty's handshaker logs the requested
     * subprotocols at debug level) ever holds or prints it.
     */
    public static void strip(HttpHeaders headers) {
        requireNonNull(headers, "headers");
        headers.remove(HttpHeaderNames.AUTHORIZATION);
        List<String> kept = subprotocols(headers).stream()
                .filter(p -> !p.startsWith(BEARER_SUBPROTOCOL_PREFIX))
                .toList();
        headers.remove(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (!kept.isEmpty()) {
            headers.set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(", ", kept));
        }
    }

    private static Optional<String> fromAuthorization(String value) {
        String v = value.strip();
        if (v.length() <= BEARER_SCHEME.length()
                || !v.regionMatches(true, 0, BEARER_SCHEME, 0, BEARER_SCHEME.length())
                || !Character.isWhitespace(v.charAt(BEARER_SCHEME.length()))) {
            return Optional.empty();
        }
        String token = v.substring(BEARER_SCHEME.length()).strip();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }

    /** Every entry of every Sec-WebSocket-Protocol header, trimmed, empty ones dropped. */
    private static List<String> subprotocols(HttpHeaders headers) {
        return headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL).stream()
                .flatMap(h -> Arrays.stream(h.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    }
}
