package dev.tether.gateway.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The {@code admin.tls} section: TLS on the admin listener, with the certificate of
 * {@code server.tls} (and its reloads), optionally asking every client for a certificate signed by
 * an operator's CA (mutual TLS, on top of the admin token). Immutable and thread-safe.
 *
 * @param enabled serve the admin API over TLS ({@code https://}), {@code admin.tls.enabled}; needs
 *     {@code server.tls.enabled}; default false
 * @param clientAuth {@value #CLIENT_AUTH_NONE} or {@value #CLIENT_AUTH_REQUIRE} (a client without a
 *     certificate signed by {@code client_ca_file} fails the handshake), {@code admin.tls.client_auth};
 *     default {@value #CLIENT_AUTH_NONE}
 * @param clientCaFile the CA certificates (PEM) that sign admin clients' certificates,
 *     {@code admin.tls.client_ca_file}; required with {@code client_auth: require}, re-read with the
 *     server's certificate files
 */
public record AdminTlsConfig(boolean enabled, String clientAuth, Path clientCaFile) {

    public static final String CLIENT_AUTH_NONE = "none";
    public static final String CLIENT_AUTH_REQUIRE = "require";
    public static final List<String> CLIENT_AUTHS = List.of(CLIENT_AUTH_NONE, CLIENT_AUTH_REQUIRE);

    public static final boolean DEFAULT_ENABLED = false;
    public static final String DEFAULT_CLIENT_AUTH = CLIENT_AUTH_NONE;

    public AdminTlsConfig {
        if (!Check.isOneOf(clientAuth, CLIENT_AUTHS)) {
            throw new ConfigException("admin.tls.client_auth", clientAuth, String.join(" or ", CLIENT_AUTHS));
        }
        // The parameter, not requiresClientCertificates(): the fields are assigned after this body.
        if (CLIENT_AUTH_REQUIRE.equals(clientAuth)) {
            if (!enabled) {
                throw new ConfigException("admin.tls.client_auth", clientAuth, "none while admin.tls.enabled is false");
            }
            Check.notNull(
                    "admin.tls.client_ca_file",
                    clientCaFile,
                    "a PEM file of CA certificates with client_auth: require");
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}: plain HTTP on loopback. */
    public static AdminTlsConfig defaults() {
        return new AdminTlsConfig(DEFAULT_ENABLED, DEFAULT_CLIENT_AUTH, null);
    }

    /** Whether a client must present a certificate signed by {@link #clientCaFile}. */
    public boolean requiresClientCertificates() {
        return CLIENT_AUTH_REQUIRE.equals(clientAuth);
    }
}
