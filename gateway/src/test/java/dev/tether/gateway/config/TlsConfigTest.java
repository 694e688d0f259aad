package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code server.tls} and {@code admin.tls} keys: defaults, validation naming the key, the key password kept out of messages. */
class TlsConfigTest {

    private static final String FILES = """
            server:
              tls:
                enabled: true
                cert_chain_file: /etc/tether/chain.pem
                private_key_file: /etc/tether/key.pem
            """;

    @Test
    void offByDefault() {
        GatewayConfig defaults = GatewayConfig.defaults();
        assertFalse(defaults.server().tls().enabled());
        assertEquals("auto", defaults.server().tls().provider());
        assertEquals(Duration.ofMinutes(1), defaults.server().tls().reloadInterval());
        assertFalse(defaults.admin().tls().enabled());
        assertFalse(defaults.admin().tls().requiresClientCertificates());
    }

    @Test
    void filesAndProviderAreRead() {
        GatewayConfig config = ConfigLoader.parse(FILES + "    provider: jdk\n    reload_interval: 5s\n", Map.of());
        TlsConfig tls = config.server().tls();
        assertTrue(tls.enabled());
        assertEquals(Path.of("/etc/tether/chain.pem"), tls.certChainFile());
        assertEquals(Path.of("/etc/tether/key.pem"), tls.privateKeyFile());
        assertEquals("jdk", tls.provider());
        assertEquals(Duration.ofSeconds(5), tls.reloadInterval());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "server: {tls: {enabled: true, private_key_file: /k.pem}}|server.tls.cert_chain_file",
                "server: {tls: {enabled: true, cert_chain_file: /c.pem}}|server.tls.private_key_file",
                "server: {tls: {provider: boringssl}}|server.tls.provider",
                "server: {tls: {reload_interval: 10ms}}|server.tls.reload_interval",
                "admin: {tls: {enabled: true}}|admin.tls.enabled",
                "admin: {tls: {client_auth: optional}}|admin.tls.client_auth",
                "admin: {tls: {client_auth: require}}|admin.tls.client_auth",
            })
    void invalidValuesFailNamingTheKey(String yaml, String key) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Map.of()));
        assertTrue(e.getMessage().startsWith(key + ":"), e.getMessage());
    }

    @Test
    void clientCertificatesNeedACaFile() {
        String yaml = FILES + "admin:\n  tls:\n    enabled: true\n    client_auth: require\n";
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Map.of()));
        assertTrue(e.getMessage().startsWith("admin.tls.client_ca_file:"), e.getMessage());
        AdminTlsConfig admin = ConfigLoader.parse(yaml + "    client_ca_file: /etc/tether/admin-ca.pem\n", Map.of())
                .admin()
                .tls();
        assertTrue(admin.requiresClientCertificates());
        assertEquals(Path.of("/etc/tether/admin-ca.pem"), admin.clientCaFile());
    }

    @Test
    void theKeyPasswordComesFromTheEnvironmentAndIsNeverShown() {
        String password = "correct horse battery staple";
        GatewayConfig config = ConfigLoader.parse(FILES, Map.of(ConfigLoader.ENV_TLS_KEY_PASSWORD, password));
        assertEquals(password, config.server().tls().keyPassword());
        assertFalse(config.toString().contains(password), config.toString());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        FILES + "    provider: nope\n", Map.of(ConfigLoader.ENV_TLS_KEY_PASSWORD, password)));
        assertFalse(e.getMessage().contains(password), e.getMessage());
        ConfigException whole = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("server: {tls: [1]}", Map.of(ConfigLoader.ENV_TLS_KEY_PASSWORD, password)));
        assertFalse(whole.getMessage().contains(password), whole.getMessage());
    }

    @Test
    void tlsIsRestartOnly() {
        assertTrue(ConfigChanges.isRestartOnly("server.tls.cert_chain_file"));
        assertTrue(ConfigChanges.isRestartOnly("server.tls.provider"));
    }
}
