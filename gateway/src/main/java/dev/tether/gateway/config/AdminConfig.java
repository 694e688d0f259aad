package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code admin} section: the operators' HTTP API on its own listener. Immutable and
 * thread-safe.
 *
 * @param enabled whether the admin listener runs, {@code admin.enabled}
 * @param host address it binds, loopback by default, {@code admin.host}
 * @param port TCP port, 0 = any free port, {@code admin.port}
 * @param roleClaim the JWT claim that lists the caller's roles (a string or an array of strings),
 *     {@code admin.role_claim}
 * @param role the role an admin token must have, {@code admin.role}
 * @param maxConnections admin connections open at once; the next is closed at accept,
 *     {@code admin.max_connections}
 * @param requestTimeout time from accept to a complete first request; then the connection is
 *     closed, {@code admin.request_timeout}
 * @param idleTimeout a keep-alive connection with no new request for this long is closed,
 *     {@code admin.idle_timeout}
 * @param tls {@code admin.tls}: TLS on the admin listener, with optional client certificates; default
 *     off (see {@link AdminTlsConfig})
 */
public record AdminConfig(
        boolean enabled,
        String host,
        int port,
        String roleClaim,
        String role,
        int maxConnections,
        Duration requestTimeout,
        Duration idleTimeout,
        AdminTlsConfig tls) {

    public static final boolean DEFAULT_ENABLED = true;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8081;
    public static final String DEFAULT_ROLE_CLAIM = "roles";
    public static final String DEFAULT_ROLE = "admin";
    public static final int DEFAULT_MAX_CONNECTIONS = 16;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public AdminConfig {
        Check.notBlank("admin.host", host, "a host name or IP address to bind");
        Check.between("admin.port", port, 0, 65535);
        Check.notBlank("admin.role_claim", roleClaim, "a claim name");
        Check.notBlank("admin.role", role, "a role name");
        Check.between("admin.max_connections", maxConnections, 1, 10_000);
        Check.positive("admin.request_timeout", requestTimeout);
        Check.positive("admin.idle_timeout", idleTimeout);
        Check.notNull("admin.tls", tls, "a mapping");
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static AdminConfig defaults() {
        return new AdminConfig(
                DEFAULT_ENABLED,
                DEFAULT_HOST,
                DEFAULT_PORT,
                DEFAULT_ROLE_CLAIM,
                DEFAULT_ROLE,
                DEFAULT_MAX_CONNECTIONS,
                DEFAULT_REQUEST_TIMEOUT,
                DEFAULT_IDLE_TIMEOUT,
                AdminTlsConfig.defaults());
    }
}
