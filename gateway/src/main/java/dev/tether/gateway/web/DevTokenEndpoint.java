package dev.tether.gateway.web;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.WebConfig;
import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpEndpoint;
import dev.tether.gateway.session.SessionIds;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code GET /dev/token?sub=NAME&ttl=DURATION[&view=SESSION]}: a token signed with the development
 * secret ({@code view}: with a {@code view} claim listing that session, for the demo's viewer link), so the
 * demo page (and a developer's script) can connect without an identity provider. Answers
 * {@code {"token":"...","sub":"...","expires_at":<epoch s>}} with {@code Cache-Control: no-store};
 * bad input is a 400 with {@code {"error":"invalid_request","message":"..."}}. The token is never
 * logged.
 *
 * <p>Served only with {@code web.dev_tokens} on, which the configuration allows only together with
 * the public development secret (so it hands out nothing an attacker could not mint anyway). Runs
 * on the connection's event loop: signing is a few microseconds of CPU, no I/O.
 */
final class DevTokenEndpoint implements HttpEndpoint {

    static final String PATH = "/dev/token";
    static final Duration DEFAULT_TTL = Duration.ofHours(1);
    static final Duration MIN_TTL = Duration.ofSeconds(WebConfig.MIN_TTL_SECONDS);
    private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final String RANDOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    private final ObjectMapper mapper;
    private final byte[] secret;
    private final String algorithm;
    private final Map<String, Object> claims;
    private final Duration maxTtl;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    /**
     * @throws IllegalArgumentException when {@code auth} has no HMAC algorithm and secret
     */
    DevTokenEndpoint(ObjectMapper mapper, AuthConfig auth, WebConfig web, Clock clock) {
        this.mapper = requireNonNull(mapper, "mapper");
        requireNonNull(auth, "auth");
        this.maxTtl = requireNonNull(web, "web").devTokenMaxTtl();
        this.clock = requireNonNull(clock, "clock");
        this.algorithm = auth.algorithms().stream()
                .filter(a -> a.startsWith("HS"))
                .findFirst()
                .orElseThrow(
                        () -> new IllegalArgumentException("web.dev_tokens needs an HS algorithm in auth.algorithms"));
        if (auth.hmacSecret() == null) {
            throw new IllegalArgumentException("web.dev_tokens needs auth.hmac_secret");
        }
        this.secret = auth.hmacSecret().getBytes(StandardCharsets.UTF_8);
        Map<String, Object> extra = new LinkedHashMap<>();
        if (auth.issuer() != null) {
            extra.put("iss", auth.issuer());
        }
        if (auth.audience() != null) {
            extra.put("aud", auth.audience());
        }
        this.claims = Map.copyOf(extra);
    }

    @Override
    public HttpAnswer handle(FullHttpRequest request) {
        Map<String, List<String>> query = new QueryStringDecoder(request.uri()).parameters();
        String subject = single(query, "sub");
        if (subject == null) {
            subject = randomSubject();
        } else if (!SUBJECT.matcher(subject).matches()) {
            return invalid("sub: expected 1..64 characters of A-Z a-z 0-9 . _ -");
        }
        String ttlText = single(query, "ttl");
        Duration ttl = DEFAULT_TTL.compareTo(maxTtl) <= 0 ? DEFAULT_TTL : maxTtl;
        if (ttlText != null) {
            try {
                ttl = Durations.parse(ttlText);
            } catch (RuntimeException e) {
                return invalid("ttl: expected " + Durations.EXPECTED);
            }
            if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(maxTtl) > 0) {
                return invalid("ttl: expected " + Durations.format(MIN_TTL) + ".." + Durations.format(maxTtl)
                        + " (web.dev_token_max_ttl)");
            }
        }
        Map<String, Object> tokenClaims = claims;
        String view = single(query, "view");
        if (view != null) {
            if (!SessionIds.wellFormed(view)) {
                return invalid("view: expected a session id");
            }
            tokenClaims = new LinkedHashMap<>(claims);
            tokenClaims.put(VerifiedToken.VIEW_CLAIM, List.of(view));
        }
        Instant now = clock.instant();
        String token =
                new TokenMinter(secret, algorithm, Clock.fixed(now, ZoneOffset.UTC)).mint(subject, ttl, tokenClaims);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("token", token);
        body.put("sub", subject);
        body.put("expires_at", now.plus(ttl).getEpochSecond());
        return HttpAnswer.json(HttpResponseStatus.OK, mapper, body).withHeader("Cache-Control", "no-store");
    }

    /** The one value of {@code name}; null when absent. A repeated parameter counts as its first value. */
    private static String single(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private String randomSubject() {
        StringBuilder subject = new StringBuilder("demo-");
        for (int i = 0; i < 6; i++) {
            subject.append(RANDOM_ALPHABET.charAt(random.nextInt(RANDOM_ALPHABET.length())));
        }
        return subject.toString();
    }

    private HttpAnswer invalid(String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", "invalid_request");
        body.put("message", message);
        return HttpAnswer.json(HttpResponseStatus.BAD_REQUEST, mapper, body);
    }
}
