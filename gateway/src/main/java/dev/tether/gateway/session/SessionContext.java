package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.WireCodec;
import java.time.Clock;

/**
 * What every session shares: its limits, the codec, the token verifier and auth settings (for
 * refresh), the worker source (for restarts), the registry and the wall clock (token expiry).
 */
record SessionContext(SessionConfig config, LimitsConfig limits, AuthConfig auth, WireCodec codec,
        TokenVerification verifier, WorkerSource workers, SessionRegistry registry, Clock clock) {
    SessionContext {
        requireNonNull(auth, "auth");
        requireNonNull(clock, "clock");
        requireNonNull(config, "config");
        requireNonNull(limits, "limits");
        requireNonNull(codec, "codec");
        requireNonNull(verifier, "verifier");
        requireNonNull(workers, "workers");
        requireNonNull(registry, "registry");
    }
}
