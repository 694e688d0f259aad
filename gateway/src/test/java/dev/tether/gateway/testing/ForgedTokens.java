package dev.tether.gateway.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints valid tokens for a gateway that takes HS256 (shared secret) and RS256 (one public key) with
 * a required issuer and audience, and forges every kind of token such a gateway must refuse. Each
 * forgery is drawn from a caller's seeded {@link Random}, so a run can be repeated exactly.
 *
 * <p>Thread-safe: holds only immutable key material.
 */
public final class ForgedTokens {

    /** One refused token and what is wrong with it. */
    public record Forgery(String kind, String token) {
        public Forgery {
            requireNonNull(kind, "kind");
            requireNonNull(token, "token");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64_DECODE = Base64.getUrlDecoder();
    private static final String BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private final byte[] secret;
    private final KeyPair rsa;
    private final KeyPair otherRsa;
    private final String rsaPublicPem;
    private final String issuer;
    private final String audience;

    /**
     * @param secret the gateway's HS256 secret
     * @param rsa the key pair whose public half the gateway trusts for RS256
     * @param otherRsa a key pair the gateway does not know
     * @param rsaPublicPem the PEM text of {@code rsa}'s public key exactly as the gateway reads it
     */
    public ForgedTokens(
            byte[] secret, KeyPair rsa, KeyPair otherRsa, String rsaPublicPem, String issuer, String audience) {
        this.secret = secret.clone();
        this.rsa = requireNonNull(rsa, "rsa");
        this.otherRsa = requireNonNull(otherRsa, "otherRsa");
        this.rsaPublicPem = requireNonNull(rsaPublicPem, "rsaPublicPem");
        this.issuer = requireNonNull(issuer, "issuer");
        this.audience = requireNonNull(audience, "audience");
    }

    /** A valid HS256 token for {@code subject}, an hour long. */
    public String hs256(String subject) {
        return claims(subject).signWith(hmac(secret), Jwts.SIG.HS256).compact();
    }

    /** A valid RS256 token for {@code subject}, an hour long. */
    public String rs256(String subject) {
        return claims(subject).signWith(rsa.getPrivate(), Jwts.SIG.RS256).compact();
    }

    /** A valid token for {@code subject}, HS256 or RS256 as {@code random} decides. */
    public String valid(String subject, Random random) {
        return random.nextBoolean() ? hs256(subject) : rs256(subject);
    }

    /** The kinds {@link #forge} draws from. */
    public static final List<String> KINDS = List.of(
            "alg none",
            "alg none, signature kept",
            "alg None",
            "wrong hmac key",
            "hs256 keyed with rsa pem",
            "hs256 keyed with rsa pem, stripped",
            "hs256 keyed with rsa der",
            "rs256 other key",
            "hs384 not configured",
            "expired",
            "future nbf",
            "wrong aud",
            "wrong iss",
            "missing aud",
            "missing iss",
            "missing sub",
            "blank sub",
            "missing exp",
            "garbage",
            "truncated",
            "bit-flipped",
            "jwe shape",
            "oversized",
            "empty segments");

    /** A token for {@code subject} that the gateway must refuse, of a kind drawn from {@code random}. */
    public Forgery forge(String subject, Random random) {
        String kind = KINDS.get(random.nextInt(KINDS.size()));
        Instant now = Instant.now();
        String token = switch (kind) {
            case "alg none" -> unsigned("none", subject, now);
            case "alg none, signature kept" -> {
                String[] parts = hs256(subject).split("\\.", -1);
                yield b64(json(Map.of("alg", "none"))) + "." + parts[1] + "." + parts[2];
            }
            case "alg None" -> unsigned(random.nextBoolean() ? "None" : "NONE", subject, now);
            case "wrong hmac key" ->
                claims(subject)
                        .signWith(hmac(randomSecret(random)), Jwts.SIG.HS256)
                        .compact();
            case "hs256 keyed with rsa pem" ->
                claims(subject)
                        .signWith(hmac(rsaPublicPem.getBytes(StandardCharsets.US_ASCII)), Jwts.SIG.HS256)
                        .compact();
            case "hs256 keyed with rsa pem, stripped" ->
                claims(subject)
                        .signWith(hmac(rsaPublicPem.strip().getBytes(StandardCharsets.US_ASCII)), Jwts.SIG.HS256)
                        .compact();
            case "hs256 keyed with rsa der" ->
                claims(subject)
                        .signWith(hmac(rsa.getPublic().getEncoded()), Jwts.SIG.HS256)
                        .compact();
            case "rs256 other key" ->
                claims(subject).signWith(otherRsa.getPrivate(), Jwts.SIG.RS256).compact();
            case "hs384 not configured" ->
                claims(subject)
                        .signWith(new SecretKeySpec(pad(secret, 48), "HmacSHA384"), Jwts.SIG.HS384)
                        .compact();
            case "expired" ->
                base(subject, now.minusSeconds(120 + random.nextInt(100_000)))
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "future nbf" ->
                claims(subject)
                        .notBefore(Date.from(now.plusSeconds(120 + random.nextInt(100_000))))
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "wrong aud" ->
                base(subject, now.plusSeconds(3600))
                        .issuer(issuer)
                        .audience()
                        .add(audience + "-other")
                        .and()
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "wrong iss" ->
                base(subject, now.plusSeconds(3600))
                        .issuer(issuer + ".evil")
                        .audience()
                        .add(audience)
                        .and()
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "missing aud" ->
                base(subject, now.plusSeconds(3600))
                        .issuer(issuer)
                        .signWith(rsa.getPrivate(), Jwts.SIG.RS256)
                        .compact();
            case "missing iss" ->
                base(subject, now.plusSeconds(3600))
                        .audience()
                        .add(audience)
                        .and()
                        .signWith(rsa.getPrivate(), Jwts.SIG.RS256)
                        .compact();
            case "missing sub" ->
                Jwts.builder()
                        .issuer(issuer)
                        .audience()
                        .add(audience)
                        .and()
                        .expiration(Date.from(now.plusSeconds(3600)))
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "blank sub" ->
                claims(" ").signWith(hmac(secret), Jwts.SIG.HS256).compact();
            case "missing exp" ->
                Jwts.builder()
                        .subject(subject)
                        .issuer(issuer)
                        .audience()
                        .add(audience)
                        .and()
                        .signWith(hmac(secret), Jwts.SIG.HS256)
                        .compact();
            case "garbage" -> garbage(random);
            case "truncated" -> {
                String valid = valid(subject, random);
                yield valid.substring(0, 1 + random.nextInt(valid.length() - 1));
            }
            case "bit-flipped" -> bitFlip(valid(subject, random), random);
            case "jwe shape" ->
                String.join(
                        ".",
                        b64(json(Map.of("alg", "dir", "enc", "A128GCM"))),
                        "",
                        randomB64(random, 16),
                        randomB64(random, 40),
                        randomB64(random, 22));
            case "oversized" -> {
                String valid = hs256(subject);
                String[] parts = valid.split("\\.", -1);
                yield parts[0] + "." + parts[1] + randomB64(random, 9 * 1024) + "." + parts[2];
            }
            case "empty segments" -> random.nextBoolean() ? ".." : "." + randomB64(random, 10) + ".";
            default -> throw new AssertionError(kind);
        };
        return new Forgery(kind, token);
    }

    /**
     * A valid token with one bit changed in the decoded bytes of its header, payload or signature,
     * so the change always reaches the signed input or the signature (flipping a base64 character
     * alone may only touch padding bits).
     */
    static String bitFlip(String token, Random random) {
        String[] parts = token.split("\\.");
        int segment = random.nextInt(3);
        byte[] bytes = B64_DECODE.decode(parts[segment]);
        int bit = random.nextInt(bytes.length * 8);
        bytes[bit / 8] ^= (byte) (1 << (bit % 8));
        parts[segment] = B64.encodeToString(bytes);
        return String.join(".", parts);
    }

    private JwtBuilder claims(String subject) {
        return base(subject, Instant.now().plusSeconds(3600))
                .issuer(issuer)
                .audience()
                .add(audience)
                .and();
    }

    private static JwtBuilder base(String subject, Instant expiry) {
        return Jwts.builder()
                .subject(subject)
                .issuedAt(Date.from(Instant.now()))
                .expiration(Date.from(expiry));
    }

    private String unsigned(String alg, String subject, Instant now) {
        Map<String, Object> claims = Map.of(
                "sub",
                subject,
                "iss",
                issuer,
                "aud",
                audience,
                "exp",
                now.plusSeconds(3600).getEpochSecond());
        return b64(json(Map.of("alg", alg, "typ", "JWT"))) + "." + b64(json(claims)) + ".";
    }

    private static String garbage(Random random) {
        StringBuilder token = new StringBuilder();
        int segments = 1 + random.nextInt(4);
        for (int i = 0; i < segments; i++) {
            if (i > 0) {
                token.append('.');
            }
            token.append(randomB64(random, 1 + random.nextInt(60)));
        }
        return token.toString();
    }

    private static String randomB64(Random random, int length) {
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append(BASE64URL.charAt(random.nextInt(BASE64URL.length())));
        }
        return s.toString();
    }

    private static byte[] randomSecret(Random random) {
        byte[] key = new byte[32 + random.nextInt(32)];
        random.nextBytes(key);
        return key;
    }

    private static byte[] pad(byte[] secret, int length) {
        byte[] padded = new byte[Math.max(length, secret.length)];
        System.arraycopy(secret, 0, padded, 0, secret.length);
        return padded;
    }

    private static SecretKeySpec hmac(byte[] key) {
        return new SecretKeySpec(key, "HmacSHA256");
    }

    private static String b64(byte[] bytes) {
        return B64.encodeToString(bytes);
    }

    private static byte[] json(Map<String, Object> map) {
        try {
            return JSON.writeValueAsBytes(map);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
