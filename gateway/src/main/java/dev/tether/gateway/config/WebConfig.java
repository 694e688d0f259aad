package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code web} section: what the main listener serves to browsers besides the WebSocket. The
 * client library ({@code GET /client/tether-client.js}) is always served; the demo page and the
 * development token endpoint are switches. Immutable and thread-safe.
 *
 * @param demoPage serve the demo page at {@code /} and its assets, {@code web.demo_page}; default true
 * @param devTokens serve {@code GET /dev/token}, which signs a token for any subject that asks,
 *     {@code web.dev_tokens}; default false. Only allowed with the built-in development secret (see
 *     {@link GatewayConfig}): a copied development file must never mint real tokens
 * @param devTokenMaxTtl the longest lifetime {@code /dev/token} grants, {@code web.dev_token_max_ttl},
 *     {@value #MIN_TTL_SECONDS}s..1d; default 1h
 * @param devTokensRemote let {@code dev_tokens} run on a {@code server.host} that is not a loopback
 *     address, {@code web.dev_tokens_remote}; default false. Without it, {@code /dev/token} would let
 *     anyone who can reach the port mint tokens and start workers, so the combination is refused
 */
public record WebConfig(boolean demoPage, boolean devTokens, Duration devTokenMaxTtl, boolean devTokensRemote) {

    public static final boolean DEFAULT_DEMO_PAGE = true;
    public static final boolean DEFAULT_DEV_TOKENS = false;
    public static final Duration DEFAULT_DEV_TOKEN_MAX_TTL = Duration.ofHours(1);
    public static final boolean DEFAULT_DEV_TOKENS_REMOTE = false;
    /** The shortest lifetime {@code /dev/token} grants, and so the least maximum. */
    public static final long MIN_TTL_SECONDS = 5;

    public WebConfig {
        Check.between("web.dev_token_max_ttl", devTokenMaxTtl, Duration.ofSeconds(MIN_TTL_SECONDS), Duration.ofDays(1));
    }

    /** The built-in defaults (note: the shipped {@code config/gateway.yaml} turns {@code dev_tokens} on). */
    public static WebConfig defaults() {
        return new WebConfig(
                DEFAULT_DEMO_PAGE, DEFAULT_DEV_TOKENS, DEFAULT_DEV_TOKEN_MAX_TTL, DEFAULT_DEV_TOKENS_REMOTE);
    }

    /** Like the canonical constructor, with {@code dev_tokens_remote} off. */
    public WebConfig(boolean demoPage, boolean devTokens, Duration devTokenMaxTtl) {
        this(demoPage, devTokens, devTokenMaxTtl, DEFAULT_DEV_TOKENS_REMOTE);
    }
}
