package dev.tether.gateway.config;

/**
 * The whole gateway configuration, one record per section of {@code config/gateway.yaml}. Built once
 * at startup by {@link ConfigLoader} and passed to the components that need a section; a reload
 * builds a new instance. Immutable and thread-safe; {@link #toString()} redacts the HMAC secret.
 *
 * @param server the {@code server} section
 * @param auth the {@code auth} section
 * @param sessions the {@code sessions} section
 * @param worker the {@code worker} section
 * @param pool the {@code pool} section
 * @param limits the {@code limits} section
 * @param abuse the {@code abuse} section
 * @param drain the {@code drain} section
 * @param heartbeat the {@code heartbeat} section
 * @param reload the {@code reload} section
 * @param logging the {@code logging} section
 * @param admin the {@code admin} section
 * @param web the {@code web} section; {@code web.dev_tokens} is refused unless {@code auth.hmac_secret}
 *     is the built-in development secret, and on a {@code server.host} that is not loopback unless
 *     {@code web.dev_tokens_remote} is on
 */
public record GatewayConfig(
        ServerConfig server,
        AuthConfig auth,
        SessionConfig sessions,
        WorkerConfig worker,
        PoolConfig pool,
        LimitsConfig limits,
        AbuseConfig abuse,
        DrainConfig drain,
        HeartbeatConfig heartbeat,
        ReloadConfig reload,
        LoggingConfig logging,
        AdminConfig admin,
        WebConfig web) {

    public GatewayConfig {
        Check.notNull("server", server, "a mapping");
        Check.notNull("auth", auth, "a mapping");
        Check.notNull("sessions", sessions, "a mapping");
        if (sessions.shared() && server != null && server.nodeId() == null) {
            throw new ConfigException("server.node_id", null, "a node id: sessions.store: redis needs one per node");
        }
        Check.notNull("worker", worker, "a mapping");
        Check.notNull("pool", pool, "a mapping");
        Check.notNull("limits", limits, "a mapping");
        Check.notNull("abuse", abuse, "a mapping");
        Check.notNull("drain", drain, "a mapping");
        Check.notNull("heartbeat", heartbeat, "a mapping");
        Check.notNull("reload", reload, "a mapping");
        Check.notNull("logging", logging, "a mapping");
        Check.notNull("admin", admin, "a mapping");
        Check.notNull("web", web, "a mapping");
        if (web.devTokens() && !acceptsPublicSecret(auth)) {
            // A development file copied into production, with a real secret set, must not hand out tokens.
            throw new ConfigException(
                    "web.dev_tokens",
                    true,
                    "false unless auth.hmac_secret is the built-in "
                            + "development secret and auth.algorithms has an HS algorithm: /dev/token would sign real "
                            + "tokens for anyone who asks");
        }
        if (web.devTokens() && !server.bindsLoopback() && !web.devTokensRemote()) {
            // The development setup must not become an open token mint on the network by accident.
            throw new ConfigException(
                    "web.dev_tokens",
                    true,
                    "false when server.host (" + server.host()
                            + ") is not a loopback address, unless web.dev_tokens_remote is true: anyone who can reach "
                            + "the port would mint tokens and start workers");
        }
        if (worker.usesProcesses() && !server.preferEpoll()) {
            throw new ConfigException(
                    "server.prefer_epoll",
                    false,
                    "true when worker.kind is process: subprocess "
                            + "workers are served on the native epoll event loops");
        }
        if (admin.tls().enabled() && !server.tls().enabled()) {
            throw new ConfigException(
                    "admin.tls.enabled",
                    true,
                    "false while server.tls.enabled is false: the admin "
                            + "listener serves the certificate of server.tls");
        }
        if (web.demoPage() && server.path().equals("/")) {
            throw new ConfigException(
                    "web.demo_page",
                    true,
                    "false when server.path is /: the page and the " + "WebSocket endpoint would share the path");
        }
    }

    /**
     * Whether tokens signed with the built-in development secret, which is public, would be
     * accepted: {@code auth.hmac_secret} is that secret and an HS algorithm is allowed. Only a
     * development setup ({@code web.dev_tokens} on) may start that way; see {@code RunCommand}.
     */
    public boolean acceptsPublicSecret() {
        return acceptsPublicSecret(auth);
    }

    private static boolean acceptsPublicSecret(AuthConfig auth) {
        return auth.usesDevSecret() && auth.algorithms().stream().anyMatch(a -> a.startsWith("HS"));
    }

    /** The built-in defaults; {@code config/gateway.yaml} writes out exactly these values. */
    public static GatewayConfig defaults() {
        return new GatewayConfig(
                ServerConfig.defaults(),
                AuthConfig.defaults(),
                SessionConfig.defaults(),
                WorkerConfig.defaults(),
                PoolConfig.defaults(),
                LimitsConfig.defaults(),
                AbuseConfig.defaults(),
                DrainConfig.defaults(),
                HeartbeatConfig.defaults(),
                ReloadConfig.defaults(),
                LoggingConfig.defaults(),
                AdminConfig.defaults(),
                WebConfig.defaults());
    }
}
