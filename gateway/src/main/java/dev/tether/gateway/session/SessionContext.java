package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.WireCodec;

/**
 * What every session shares: its limits, the codec, the token verifier (for refresh), the worker
 * source (for restarts), the registry, and the abuse limits with the nanosecond {@code ticker} its
 * message rate is measured with (injected so tests advance it).
 */
record SessionContext(SessionConfig config, LimitsConfig limits, WireCodec codec, TokenVerifier verifier,
        WorkerSource workers, SessionRegistry registry, AbuseConfig abuse, Ticker ticker) {
    SessionContext {
        requireNonNull(config, "config");
        requireNonNull(limits, "limits");
        requireNonNull(codec, "codec");
        requireNonNull(verifier, "verifier");
        requireNonNull(workers, "workers");
        requireNonNull(registry, "registry");
        requireNonNull(abuse, "abuse");
        requireNonNull(ticker, "ticker");
    }
}
