package dev.tether.gateway.config;

import dev.tether.gateway.auth.ForwardedClaims;
import dev.tether.gateway.auth.KeySource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code auth} section: which JWTs the handshake accepts. Read once by the token verifier when
 * it is built. {@link #toString()} never shows the HMAC secret. Immutable and thread-safe.
 *
 * @param algorithms accepted signature algorithms, {@code auth.algorithms}: a non-empty subset of
 *     {@link #SUPPORTED_ALGORITHMS} without duplicates ({@code none} is never accepted); default
 *     {@code [HS256]}
 * @param hmacSecret shared secret for HS* tokens, {@code auth.hmac_secret}: required when an HS*
 *     algorithm is enabled, at least 32/48/64 UTF-8 bytes for HS256/HS384/HS512; default
 *     {@link #DEV_HMAC_SECRET}; overridden by {@code TETHER_JWT_SECRET}
 * @param publicKeys where keys for RS256/ES256 come from, {@code auth.public_keys}: PEM files, inline
 *     PEM or JWK Set files (see {@link PublicKeyConfig}); each such algorithm that is enabled needs at
 *     least one key, and every PEM key's algorithm must be enabled; default none
 * @param issuer required {@code iss} claim, {@code auth.issuer}; {@code null} = not checked (default)
 * @param audience required {@code aud} claim, {@code auth.audience}; {@code null} = not checked
 *     (default)
 * @param clockSkew tolerance for {@code exp}/{@code nbf}, {@code auth.clock_skew}, 0..10m; default 30s
 * @param refreshLead how long before a connection's token expires the gateway sends
 *     {@code refresh_required}, {@code auth.refresh_lead}
 * @param refreshInterval how often {@code refresh_required} is repeated while the token is not
 *     refreshed, {@code auth.refresh_interval}
 * @param expiredGrace how long a connection may stay open after its token expired without a
 *     refresh before it is closed with 4010, {@code auth.expired_grace}
 * @param allowQueryToken accept the token in the {@code access_token} query parameter as well as the
 *     header, {@code auth.allow_query_token}; default false
 * @param forwardClaims the token claims a session's worker is given in its {@code session} line
 *     (contract 1.2, 8.5), {@code auth.forward_claims}; default none. Names that could hold a
 *     credential are refused (see {@link dev.tether.gateway.auth.ForwardedClaims#check})
 * @param keyReloadInterval how often key files are checked for changes, {@code auth.key_reload_interval},
 *     >= 100ms; default 10s
 */
public record AuthConfig(
        List<String> algorithms,
        String hmacSecret,
        List<PublicKeyConfig> publicKeys,
        String issuer,
        String audience,
        Duration clockSkew,
        boolean allowQueryToken,
        Duration refreshLead,
        Duration refreshInterval,
        Duration expiredGrace,
        Duration keyReloadInterval,
        List<String> forwardClaims) {

    /**
     * The secret shipped in {@code config/gateway.yaml} so that the gateway runs out of the box.
     * Anyone can read it; production deployments override it with {@code TETHER_JWT_SECRET}.
     */
    public static final String DEV_HMAC_SECRET = "tether-dev-secret-do-not-use-in-production-0123456789";

    public static final String HS256 = "HS256";
    public static final String HS384 = "HS384";
    public static final String HS512 = "HS512";
    public static final String RS256 = "RS256";
    public static final String ES256 = "ES256";
    public static final List<String> SUPPORTED_ALGORITHMS = List.of(HS256, HS384, HS512, RS256, ES256);
    public static final List<String> PUBLIC_KEY_ALGORITHMS = List.of(RS256, ES256);
    public static final List<String> DEFAULT_ALGORITHMS = List.of(HS256);
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(10);
    public static final boolean DEFAULT_ALLOW_QUERY_TOKEN = false;
    public static final Duration DEFAULT_REFRESH_LEAD = Duration.ofSeconds(60);
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(15);
    public static final Duration DEFAULT_EXPIRED_GRACE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_KEY_RELOAD_INTERVAL = Duration.ofSeconds(10);
    public static final Duration MIN_KEY_RELOAD_INTERVAL = Duration.ofMillis(100);
    public static final List<String> PUBLIC_KEY_FORMATS =
            List.of(PublicKeyConfig.FORMAT_PEM, PublicKeyConfig.FORMAT_JWKS);

    public AuthConfig {
        algorithms = checkAlgorithms(algorithms);
        checkSecret(algorithms, hmacSecret);
        publicKeys = checkPublicKeys(algorithms, publicKeys);
        checkOptional("auth.issuer", issuer);
        checkOptional("auth.audience", audience);
        Check.between("auth.clock_skew", clockSkew, Duration.ZERO, MAX_CLOCK_SKEW);
        Check.between("auth.refresh_lead", refreshLead, Duration.ZERO, Duration.ofDays(1));
        Check.atLeast("auth.refresh_interval", refreshInterval, Duration.ofMillis(100));
        Check.between("auth.expired_grace", expiredGrace, Duration.ZERO, Duration.ofDays(1));
        Check.atLeast("auth.key_reload_interval", keyReloadInterval, MIN_KEY_RELOAD_INTERVAL);
        forwardClaims = forwardClaims == null ? List.of() : List.copyOf(forwardClaims);
        ForwardedClaims.check(forwardClaims);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static AuthConfig defaults() {
        return new AuthConfig(
                DEFAULT_ALGORITHMS,
                DEV_HMAC_SECRET,
                List.of(),
                null,
                null,
                DEFAULT_CLOCK_SKEW,
                DEFAULT_ALLOW_QUERY_TOKEN,
                DEFAULT_REFRESH_LEAD,
                DEFAULT_REFRESH_INTERVAL,
                DEFAULT_EXPIRED_GRACE,
                DEFAULT_KEY_RELOAD_INTERVAL,
                List.of());
    }

    /** Whether the HMAC secret is the public development secret, which the gateway should warn about. */
    public boolean usesDevSecret() {
        return DEV_HMAC_SECRET.equals(hmacSecret);
    }

    /** Like the record's own, but with the HMAC secret redacted. */
    @Override
    public String toString() {
        return "AuthConfig[algorithms=" + algorithms
                + ", hmacSecret=" + (hmacSecret == null ? "null" : "<redacted>")
                + ", publicKeys=" + publicKeys
                + ", issuer=" + issuer
                + ", audience=" + audience
                + ", clockSkew=" + Durations.format(clockSkew)
                + ", allowQueryToken=" + allowQueryToken
                + ", refreshLead=" + Durations.format(refreshLead)
                + ", refreshInterval=" + Durations.format(refreshInterval)
                + ", expiredGrace=" + Durations.format(expiredGrace)
                + ", keyReloadInterval=" + Durations.format(keyReloadInterval) + "]";
    }

    /**
     * The key sources of {@link #publicKeys()} for the token verifier, each named by its key
     * ({@code auth.public_keys[2]}) so that messages about it point into this file.
     */
    public List<KeySource> keySources() {
        List<KeySource> sources = new ArrayList<>(publicKeys.size());
        for (int i = 0; i < publicKeys.size(); i++) {
            PublicKeyConfig k = publicKeys.get(i);
            String name = "auth.public_keys[" + i + "]";
            if (k.readsJwkSet()) {
                sources.add(KeySource.jwksFile(name, k.file()));
            } else if (k.file() != null) {
                sources.add(KeySource.pemFile(name, k.kid(), k.algorithm(), k.file()));
            } else {
                sources.add(KeySource.inlinePem(name, k.kid(), k.algorithm(), k.pem()));
            }
        }
        return List.copyOf(sources);
    }

    /** Minimum secret length in UTF-8 bytes for an HMAC algorithm: the hash size (RFC 7518 3.2). */
    static int minSecretBytes(String algorithm) {
        return switch (algorithm) {
            case HS256 -> 32;
            case HS384 -> 48;
            case HS512 -> 64;
            default -> 0;
        };
    }

    private static List<String> checkAlgorithms(List<String> algorithms) {
        String expected = "a non-empty list drawn from " + SUPPORTED_ALGORITHMS;
        if (algorithms == null || algorithms.isEmpty()) {
            throw new ConfigException("auth.algorithms", algorithms, expected);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < algorithms.size(); i++) {
            String algorithm = algorithms.get(i);
            String key = "auth.algorithms[" + i + "]";
            if (algorithm != null && algorithm.equalsIgnoreCase("none")) {
                throw new ConfigException(
                        key, algorithm, "one of " + SUPPORTED_ALGORITHMS + "; unsigned tokens are never accepted");
            }
            if (!Check.isOneOf(algorithm, SUPPORTED_ALGORITHMS)) {
                throw new ConfigException(key, algorithm, "one of " + SUPPORTED_ALGORITHMS);
            }
            if (!seen.add(algorithm)) {
                throw new ConfigException(key, algorithm, "no duplicates in auth.algorithms");
            }
        }
        return List.copyOf(algorithms);
    }

    private static void checkSecret(List<String> algorithms, String secret) {
        String strongest = null;
        for (String algorithm : algorithms) {
            if (minSecretBytes(algorithm) > minSecretBytes(Objects.requireNonNullElse(strongest, ""))) {
                strongest = algorithm;
            }
        }
        if (strongest == null) {
            return;
        }
        int required = minSecretBytes(strongest);
        int actual = secret == null ? 0 : secret.getBytes(StandardCharsets.UTF_8).length;
        if (actual < required) {
            String shown = secret == null ? null : "<redacted, " + actual + " bytes>";
            throw new ConfigException(
                    "auth.hmac_secret",
                    shown,
                    "at least " + required + " bytes (UTF-8) because " + strongest + " is enabled");
        }
    }

    private static List<PublicKeyConfig> checkPublicKeys(List<String> algorithms, List<PublicKeyConfig> keys) {
        Check.notNull("auth.public_keys", keys, "a list of public keys, possibly empty");
        Set<String> kids = new HashSet<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = "auth.public_keys[" + i + "]";
            PublicKeyConfig publicKey = Check.notNull(
                    key, keys.get(i), "a mapping with algorithm and file, algorithm and pem, or format jwks and file");
            if (!Check.isOneOf(publicKey.format(), PUBLIC_KEY_FORMATS)) {
                throw new ConfigException(key + ".format", publicKey.format(), "one of " + PUBLIC_KEY_FORMATS);
            }
            if (publicKey.readsJwkSet()) {
                checkJwkSetEntry(key, publicKey);
                continue;
            }
            String algorithm = publicKey.algorithm();
            if (!Check.isOneOf(algorithm, PUBLIC_KEY_ALGORITHMS)) {
                throw new ConfigException(key + ".algorithm", algorithm, "one of " + PUBLIC_KEY_ALGORITHMS);
            }
            if (!algorithms.contains(algorithm)) {
                throw new ConfigException(
                        key + ".algorithm", algorithm, "an algorithm enabled in auth.algorithms " + algorithms);
            }
            if (publicKey.file() != null && publicKey.pem() != null) {
                throw new ConfigException(
                        key + ".pem", PublicKeyConfig.describePem(publicKey.pem()), "either file or pem, not both");
            }
            if (publicKey.pem() == null) {
                Check.notNull(key + ".file", publicKey.file(), "the path of a PEM public key file, or inline pem");
            } else if (publicKey.pem().isBlank()) {
                throw new ConfigException(
                        key + ".pem",
                        PublicKeyConfig.describePem(publicKey.pem()),
                        "a -----BEGIN PUBLIC KEY----- block");
            }
            if (publicKey.kid() != null) {
                Check.notBlank(key + ".kid", publicKey.kid(), "a non-empty key id, or no kid");
                if (!kids.add(publicKey.kid())) {
                    throw new ConfigException(key + ".kid", publicKey.kid(), "a kid not used by another key");
                }
            }
        }
        // A JWK Set's algorithms are known only once it is read: ConfigLoader checks those after reading.
        boolean anyJwkSet = keys.stream().anyMatch(PublicKeyConfig::readsJwkSet);
        for (String algorithm : PUBLIC_KEY_ALGORITHMS) {
            if (algorithms.contains(algorithm)
                    && !anyJwkSet
                    && keys.stream().noneMatch(k -> algorithm.equals(k.algorithm()))) {
                throw new ConfigException(
                        "auth.public_keys",
                        describe(keys),
                        "at least one key with algorithm " + algorithm + ", because auth.algorithms contains it");
            }
        }
        return List.copyOf(keys);
    }

    /** A JWK Set entry names only its file: kids and algorithms come from the JWKs in it. */
    private static void checkJwkSetEntry(String key, PublicKeyConfig publicKey) {
        if (publicKey.pem() != null) {
            throw new ConfigException(
                    key + ".pem",
                    PublicKeyConfig.describePem(publicKey.pem()),
                    "no pem with format jwks; a JWK Set is read from file");
        }
        Check.notNull(key + ".file", publicKey.file(), "the path of a JWK Set file, since format is jwks");
        if (publicKey.kid() != null) {
            throw new ConfigException(
                    key + ".kid", publicKey.kid(), "no kid with format jwks; each JWK carries its own");
        }
        if (publicKey.algorithm() != null) {
            throw new ConfigException(
                    key + ".algorithm",
                    publicKey.algorithm(),
                    "no algorithm with format jwks; each JWK's alg (or key type) gives it");
        }
    }

    /** The entries as messages show them: algorithm and file, never inline PEM text. */
    static List<String> describe(List<PublicKeyConfig> keys) {
        return keys.stream()
                .map(k -> (k.readsJwkSet() ? "jwks" : k.algorithm()) + ":"
                        + (k.file() != null ? k.file() : PublicKeyConfig.describePem(k.pem())))
                .toList();
    }

    private static void checkOptional(String key, String value) {
        if (value != null && value.isBlank()) {
            throw new ConfigException(key, value, "a non-empty string, or null to skip the check");
        }
    }
}
