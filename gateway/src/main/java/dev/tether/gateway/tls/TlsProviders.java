package dev.tether.gateway.tls;

import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.TlsConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which TLS implementation serves, from {@code server.tls.provider}: BoringSSL (Netty's
 * {@code OPENSSL} provider, through netty-tcnative-boringssl-static) when it loads, else the JDK's.
 * Stateless.
 */
public final class TlsProviders {

    private TlsProviders() {}

    /**
     * The provider {@code setting} asks for on this machine.
     *
     * @throws ConfigException naming {@code server.tls.provider} when {@code openssl} is asked for and
     *     netty-tcnative cannot load here
     */
    public static SslProvider choose(String setting) {
        return switch (setting) {
            case TlsConfig.PROVIDER_JDK -> SslProvider.JDK;
            case TlsConfig.PROVIDER_OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new ConfigException(
                            "server.tls.provider",
                            setting,
                            "auto or jdk: netty-tcnative cannot load " + "here (" + OpenSsl.unavailabilityCause()
                                    + ")");
                }
                yield SslProvider.OPENSSL;
            }
            case TlsConfig.PROVIDER_AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            default ->
                throw new ConfigException("server.tls.provider", setting, String.join(", ", TlsConfig.PROVIDERS));
        };
    }

    /** What the log says about {@code provider}: {@code OpenSSL (BoringSSL)} or {@code JDK (Java 17...)}. */
    public static String describe(SslProvider provider) {
        return provider == SslProvider.JDK
                ? "JDK (" + System.getProperty("java.vendor") + " " + System.getProperty("java.version") + ")"
                : "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative)";
    }
}
