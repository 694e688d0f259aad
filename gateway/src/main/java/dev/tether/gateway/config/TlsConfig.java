package dev.tether.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code server.tls} section: TLS served by the gateway itself ({@code wss://} and
 * {@code https://} on {@code server.port}), from a PEM certificate chain and a PEM PKCS#8 private
 * key. The files are read at start-up (a bad one stops the gateway, naming the key) and checked
 * every {@code reload_interval}: a changed pair that is valid is served to new connections, one that
 * is not keeps the certificate in force (see {@code dev.tether.gateway.tls.CertificateReloader}).
 * Immutable and thread-safe; {@link #toString()} never shows the key password.
 *
 * @param enabled serve TLS on {@code server.port}, {@code server.tls.enabled}; default false (plain
 *     {@code ws://}, the development setup on loopback)
 * @param certChainFile the certificate chain, leaf first, PEM, {@code server.tls.cert_chain_file};
 *     required when enabled
 * @param privateKeyFile the leaf's private key, PEM PKCS#8 ({@code BEGIN PRIVATE KEY} or
 *     {@code BEGIN ENCRYPTED PRIVATE KEY}), {@code server.tls.private_key_file}; required when enabled
 * @param keyPassword the password of an encrypted private key, {@code server.tls.key_password};
 *     default null (the key is not encrypted); set it through {@code TETHER_TLS_KEY_PASSWORD}
 * @param provider which TLS implementation serves: {@value #PROVIDER_AUTO} (BoringSSL through
 *     netty-tcnative when it loads, else the JDK's), {@value #PROVIDER_OPENSSL} (BoringSSL or fail) or
 *     {@value #PROVIDER_JDK}, {@code server.tls.provider}; default {@value #PROVIDER_AUTO}
 * @param reloadInterval how often the files are checked for a change, {@code server.tls.reload_interval},
 *     1s..1d; default 1m
 */
public record TlsConfig(
        boolean enabled,
        Path certChainFile,
        Path privateKeyFile,
        String keyPassword,
        String provider,
        Duration reloadInterval) {

    public static final String PROVIDER_AUTO = "auto";
    public static final String PROVIDER_OPENSSL = "openssl";
    public static final String PROVIDER_JDK = "jdk";
    public static final List<String> PROVIDERS = List.of(PROVIDER_AUTO, PROVIDER_OPENSSL, PROVIDER_JDK);

    public static final boolean DEFAULT_ENABLED = false;
    public static final String DEFAULT_PROVIDER = PROVIDER_AUTO;
    public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofMinutes(1);
    public static final Duration MIN_RELOAD_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MAX_RELOAD_INTERVAL = Duration.ofDays(1);

    public TlsConfig {
        if (!Check.isOneOf(provider, PROVIDERS)) {
            throw new ConfigException("server.tls.provider", provider, String.join(", ", PROVIDERS));
        }
        Check.between("server.tls.reload_interval", reloadInterval, MIN_RELOAD_INTERVAL, MAX_RELOAD_INTERVAL);
        if (enabled) {
            Check.notNull(
                    "server.tls.cert_chain_file",
                    certChainFile,
                    "a PEM certificate chain file when server.tls.enabled is true");
            Check.notNull(
                    "server.tls.private_key_file",
                    privateKeyFile,
                    "a PEM PKCS#8 private key file when server.tls.enabled is true");
        }
        if (keyPassword != null && keyPassword.isEmpty()) {
            throw new ConfigException("server.tls.key_password", "<redacted>", "null or a non-empty password");
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}: TLS off. */
    public static TlsConfig defaults() {
        return new TlsConfig(DEFAULT_ENABLED, null, null, null, DEFAULT_PROVIDER, DEFAULT_RELOAD_INTERVAL);
    }

    /** Like the record's own, with the key password redacted. */
    @Override
    public String toString() {
        return "TlsConfig[enabled=" + enabled + ", certChainFile=" + certChainFile + ", privateKeyFile="
                + privateKeyFile
                + ", keyPassword=" + (keyPassword == null ? "null" : "<redacted>") + ", provider=" + provider
                + ", reloadInterval=" + Durations.format(reloadInterval) + "]";
    }
}
