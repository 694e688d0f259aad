package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.WireCodec;

/**
 * What every session shares: its limits, the codec, the token verifier (for refresh), the worker
 * source (for restarts) and the registry.
 */
record SessionContext(SessionConfig config, LimitsConfig limits, WireCodec codec, TokenVerification verifier,
        WorkerSource workers, SessionRegistry registry) {
    SessionContext {
        requireNonNull(config, "config");
        requireNonNull(limits, "limits");
        requireNonNull(codec, "codec");
        requireNonNull(verifier, "verifier");
        requireNonNull(workers, "workers");
        requireNonNull(registry, "registry");
    }
}
