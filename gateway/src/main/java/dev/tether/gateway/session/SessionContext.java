package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.WireCodec;
import java.time.Clock;

/**
 * What every session shares: its limits, the codec, the token verifier and auth settings (for
 * refresh), the worker source (for restarts), the registry, the wall clock (token expiry), and the
 * abuse limits with the nanosecond {@code ticker} its message rate is measured with (injected so
 * tests advance it), the metrics the sessions report to, and this node's {@code server.node_id}
 * (null when it has none), which {@code session_ready} names.
 */
record SessionContext(
        SessionConfig config,
        LimitsConfig limits,
        AuthConfig auth,
        AbuseConfig abuse,
        WireCodec codec,
        TokenVerification verifier,
        WorkerSource workers,
        SessionRegistry registry,
        Clock clock,
        Ticker ticker,
        GatewayMetrics metrics,
        String node) {
    SessionContext {
        requireNonNull(auth, "auth");
        requireNonNull(clock, "clock");
        requireNonNull(config, "config");
        requireNonNull(limits, "limits");
        requireNonNull(codec, "codec");
        requireNonNull(verifier, "verifier");
        requireNonNull(workers, "workers");
        requireNonNull(registry, "registry");
        requireNonNull(abuse, "abuse");
        requireNonNull(ticker, "ticker");
        requireNonNull(metrics, "metrics");
    }
}
