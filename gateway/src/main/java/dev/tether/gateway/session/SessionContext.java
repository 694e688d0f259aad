package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.protocol.WireCodec;

/** What every session shares: its limits, the codec, the token verifier (for refresh) and the registry. */
record SessionContext(SessionConfig config, WireCodec codec, TokenVerifier verifier, SessionRegistry registry) {
    SessionContext {
        requireNonNull(config, "config");
        requireNonNull(codec, "codec");
        requireNonNull(verifier, "verifier");
        requireNonNull(registry, "registry");
    }
}
