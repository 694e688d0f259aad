package dev.tether.gateway.pipeline;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.protocol.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;

/**
 * What the pipeline's tests build a gateway's handlers from, for a config: a verifier and a minter
 * of its HMAC tokens on the system clock, and a registry whose sessions get echo workers.
 */
final class PipelineFixtures {

    private PipelineFixtures() {}

    /** Verifies tokens as {@code auth} says, with no public keys. */
    static TokenVerifier verifier(AuthConfig auth) {
        return new TokenVerifier(
                new HashSet<>(auth.algorithms()),
                auth.hmacSecret().getBytes(StandardCharsets.UTF_8),
                List.of(),
                auth.issuer(),
                auth.audience(),
                auth.clockSkew(),
                Clock.systemUTC());
    }

    /** Mints HS256 tokens with the secret of {@code auth}. */
    static TokenMinter minter(AuthConfig auth) {
        return new TokenMinter(auth.hmacSecret().getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
    }

    /** A registry of {@code config}'s sessions, each with an echo worker that answers in one delta at once. */
    static SessionRegistry echoRegistry(GatewayConfig config, TokenVerifier verifier) {
        return new SessionRegistry(
                config.sessions(),
                config.limits(),
                new WireCodec(),
                verifier,
                new EchoWorkerSource(1, Duration.ZERO),
                Ticker.systemTicker());
    }
}
