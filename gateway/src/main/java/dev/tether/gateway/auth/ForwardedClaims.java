package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.ConfigException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token claims a session's worker is given ({@code auth.forward_claims}, contract 1.2, 8.5):
 * the named claims of a verified token, and nothing else of it. A worker is code the operator runs
 * for users, often an agent that runs tools and writes what it sees to its working directory, so
 * nothing that could act as a credential may reach it: names that say "credential" are refused at
 * start-up ({@link #check}), and a value that looks like one anyway (a JWT, a PEM block) is dropped
 * with a warning that names the claim, never its value.
 *
 * <p>Immutable and thread-safe.
 */
public final class ForwardedClaims {

    private static final Logger log = LoggerFactory.getLogger(ForwardedClaims.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Most names that may be forwarded; more would be a token's worth of data in every session line. */
    public static final int MAX_NAMES = 32;

    /**
     * Parts of a claim name that say its value is (or may be) a credential: such a claim is never
     * forwarded, whatever its value looks like. {@code view} is refused too: it grants access to
     * other users' sessions, which is the gateway's business, not the worker's.
     */
    static final List<String> CREDENTIAL_WORDS = List.of(
            "token",
            "secret",
            "password",
            "passwd",
            "credential",
            "cookie",
            "jwt",
            "bearer",
            "apikey",
            "api_key",
            "private",
            "signature",
            "session");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:/-]{1,64}");
    /** Three base64url parts with a JSON header ({@code eyJ} encodes an opening brace and quote): a JWS or JWE compact token. */
    private static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

    private final List<String> names;

    public ForwardedClaims(List<String> names) {
        this.names = List.copyOf(requireNonNull(names, "names"));
    }

    /**
     * Checks {@code auth.forward_claims} at start-up: at most {@link #MAX_NAMES} distinct names of 1
     * to 64 characters ({@code [A-Za-z0-9_.:/-]}), none naming a credential (see
     * {@link #CREDENTIAL_WORDS}).
     *
     * @throws ConfigException naming the key and the offending name
     */
    public static void check(List<String> names) {
        requireNonNull(names, "auth.forward_claims");
        if (names.size() > MAX_NAMES) {
            throw new ConfigException("auth.forward_claims", names.size() + " names", "at most " + MAX_NAMES);
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new ConfigException(
                        "auth.forward_claims", String.valueOf(name), "claim names of 1 to 64 of [A-Za-z0-9_.:/-]");
            }
            if (!seen.add(name)) {
                throw new ConfigException("auth.forward_claims", name, "each name once");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals(VerifiedToken.VIEW_CLAIM)
                    || CREDENTIAL_WORDS.stream().anyMatch(lower::contains)) {
                throw new ConfigException(
                        "auth.forward_claims",
                        name,
                        "a claim that cannot hold a credential (see auth.forward_claims in docs/configuration.md)");
            }
        }
    }

    /** Whether any claim is forwarded at all. */
    public boolean any() {
        return !names.isEmpty();
    }

    /**
     * The forwarded claims of {@code token}, as a JSON object: each named claim it has, except one
     * whose value looks like a credential, which is dropped with a warning naming the claim and
     * {@code sessionId}. Absent claims are left out.
     */
    public ObjectNode of(VerifiedToken token, String sessionId) {
        ObjectNode picked = JSON.createObjectNode();
        for (String name : names) {
            if (!token.claims().containsKey(name)) {
                continue;
            }
            JsonNode value = JSON.valueToTree(token.claims().get(name));
            if (looksLikeCredential(value)) {
                log.atWarn()
                        .addKeyValue("session", sessionId)
                        .addKeyValue("subject", token.subject())
                        .log("claim {} looks like a credential (a JWT or a key): not forwarded to the worker", name);
                continue;
            }
            picked.set(name, value);
        }
        return picked;
    }

    /** A JWT or a PEM block anywhere in {@code value} (strings, array items, object values). */
    static boolean looksLikeCredential(JsonNode value) {
        if (value.isTextual()) {
            String text = value.textValue();
            return JWT.matcher(text).find() || text.contains("-----BEGIN");
        }
        for (JsonNode child : value) {
            if (looksLikeCredential(child)) {
                return true;
            }
        }
        return false;
    }
}
