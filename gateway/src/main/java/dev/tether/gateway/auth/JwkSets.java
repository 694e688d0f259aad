package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.jsonwebtoken.security.AsymmetricJwk;
import io.jsonwebtoken.security.EcPublicJwk;
import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.JwkSet;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PrivateJwk;
import io.jsonwebtoken.security.PublicJwk;
import io.jsonwebtoken.security.RsaPublicJwk;
import io.jsonwebtoken.security.SecretJwk;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Reads the verification keys of a JWK Set (RFC 7517 section 5), the format identity providers
 * publish at their {@code jwks_uri}, with jjwt's {@link Jwks#setParser()}.
 *
 * <p>Every JWK must be well-formed (jjwt's strict mode: an unparsable or unknown JWK fails the whole
 * set rather than vanishing silently). Private and secret JWKs are refused: a file meant for
 * verification that holds signing material was exported wrongly, and should not sit where a
 * gateway reads it. A public JWK is used when its {@code use} is absent or {@code sig} and its
 * algorithm is enabled; its algorithm is its {@code alg}, or, without one, {@code RS256} for an RSA
 * key and {@code ES256} for an EC P-256 key. Other public JWKs (encryption keys, algorithms the
 * gateway does not accept) are skipped and reported to the caller, which logs them.
 *
 * <p>jjwt's {@link JwkSet} is a set: JWKs of the same key count once, whatever their kid. Messages
 * name a JWK by its position in that set and its kid, never by its key parameters. Stateless and
 * thread-safe; called on the key reload thread or while loading configuration, never on an event
 * loop.
 */
final class JwkSets {

    /** jjwt renders a JWK's parameters as {@code {kty=RSA, n=...}} in some messages; keep those out. */
    private static final Pattern RENDERED_MAP = Pattern.compile("\\{[^{}]*}");
    /** Jackson quotes the token it choked on ({@code Unrecognized token 'MIIBIjAN...'}): maybe key text. */
    private static final Pattern QUOTED_TOKEN = Pattern.compile("'[^']{9,}'");

    private static final Pattern JSON_LOCATION =
            Pattern.compile("\\s*at \\[Source: [^;]*; line: (\\d+), column: (\\d+)]");
    private static final int MAX_MESSAGE_CHARS = 300;

    private JwkSets() {}

    /**
     * The usable keys of a JWK Set, in the order of the set.
     *
     * @param json       the JWK Set JSON ({@code {"keys": [...]}})
     * @param algorithms the enabled JWA names; JWKs for other algorithms are skipped
     * @param skipped    told why each skipped JWK was left out (no key material in the text)
     * @throws IllegalArgumentException if the text is not a JWK Set, a JWK in it is malformed, private
     *                                  or secret, or a JWK's key does not fit its algorithm
     */
    static List<PublicKeyEntry> parse(String json, Set<String> algorithms, Consumer<String> skipped) {
        requireNonNull(json, "json");
        requireNonNull(algorithms, "algorithms");
        requireNonNull(skipped, "skipped");
        JwkSet set;
        try {
            set = Jwks.setParser().ignoreUnsupported(false).build().parse(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid JWK Set: " + sanitize(e.getMessage()));
        }
        List<PublicKeyEntry> entries = new ArrayList<>();
        int index = 0;
        for (Jwk<?> jwk : set.getKeys()) {
            String which = describe(index++, jwk);
            if (jwk instanceof PrivateJwk<?, ?, ?>) {
                throw new IllegalArgumentException(which + " is a private key (expected: public keys only; "
                        + "publish the public half, e.g. with Jwks.json(privateJwk.toPublicJwk()))");
            }
            if (jwk instanceof SecretJwk || !(jwk instanceof PublicJwk<?> publicJwk)) {
                throw new IllegalArgumentException(which + " is a " + jwk.getType()
                        + " key (expected: RSA or EC public keys only; shared secrets belong in auth.hmac_secret)");
            }
            String use = ((AsymmetricJwk<?>) publicJwk).getPublicKeyUse();
            if (use != null && !"sig".equals(use)) {
                skipped.accept(which + " skipped: use is " + use + " (expected: sig)");
                continue;
            }
            Optional<JwsAlgorithm> algorithm = algorithm(publicJwk);
            if (algorithm.isEmpty()) {
                String alg = publicJwk.getAlgorithm();
                skipped.accept(which + " skipped: "
                        + (alg == null
                                ? "no alg, and a " + jwk.getType() + " key is neither RSA nor EC P-256"
                                : "alg " + alg + " is not supported (expected: RS256 or ES256)"));
                continue;
            }
            JwsAlgorithm alg = algorithm.get();
            if (!algorithms.contains(alg.name())) {
                skipped.accept(which + " skipped: " + alg + " is not enabled in auth.algorithms");
                continue;
            }
            PublicKey key;
            try {
                key = KeyChecks.checkPublicKey((PublicKey) publicJwk.toKey(), alg);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(which + ": " + e.getMessage(), e);
            }
            entries.add(new PublicKeyEntry(publicJwk.getId(), alg.name(), key));
        }
        return List.copyOf(entries);
    }

    /** The JWK's {@code alg}, else the one its key type implies; empty if neither is one we support. */
    private static Optional<JwsAlgorithm> algorithm(PublicJwk<?> jwk) {
        String alg = jwk.getAlgorithm();
        if (alg != null) {
            return JwsAlgorithm.byName(alg).filter(a -> a.family != JwsAlgorithm.Family.HMAC);
        }
        if (jwk instanceof RsaPublicJwk) {
            return Optional.of(JwsAlgorithm.RS256);
        }
        if (jwk instanceof EcPublicJwk ec && "P-256".equals(ec.get("crv"))) {
            return Optional.of(JwsAlgorithm.ES256);
        }
        return Optional.empty();
    }

    private static String describe(int index, Jwk<?> jwk) {
        return "JWK keys[" + index + "]" + (jwk.getId() == null ? "" : " (kid " + jwk.getId() + ")");
    }

    /** jjwt's message without rendered JWK parameters or quoted input, shortened. */
    static String sanitize(String message) {
        if (message == null) {
            return "unreadable";
        }
        String clean = JSON_LOCATION.matcher(message).replaceAll(" (line $1, column $2)");
        clean = RENDERED_MAP.matcher(clean).replaceAll("{...}");
        clean = QUOTED_TOKEN
                .matcher(clean)
                .replaceAll("'...'")
                .replaceAll("\\s+", " ")
                .strip();
        return clean.length() <= MAX_MESSAGE_CHARS ? clean : clean.substring(0, MAX_MESSAGE_CHARS) + "...";
    }
}
