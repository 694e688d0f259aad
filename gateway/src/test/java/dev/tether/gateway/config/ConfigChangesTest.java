package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {

    private static GatewayConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, Map.of());
    }

    @Test
    void sameConfigHasNoChangedKeys() {
        assertEquals(List.of(), ConfigChanges.changedKeys(GatewayConfig.defaults(), parse("")));
    }

    @Test
    void changedKeysAreDottedAndInFileOrder() {
        GatewayConfig next = parse("""
                server: {allowed_origins: ["https://app.example.com"], port: 9000}
                sessions: {max_sessions_per_user: 1}
                worker: {process: {env: {DEMO_READY_DELAY: 0s, EXTRA: "1"}}}
                pool: {min_idle: 1}
                """);
        assertEquals(
                List.of(
                        "server.port",
                        "server.allowed_origins",
                        "sessions.max_sessions_per_user",
                        "worker.process.env.DEMO_READY_DELAY",
                        "worker.process.env.EXTRA",
                        "pool.min_idle"),
                ConfigChanges.changedKeys(GatewayConfig.defaults(), next));
    }

    @Test
    void aKeySetBackToNullIsAChange() {
        GatewayConfig withIssuer = parse("auth: {issuer: https://issuer.example}");
        assertEquals(List.of("auth.issuer"), ConfigChanges.changedKeys(withIssuer, GatewayConfig.defaults()));
        assertEquals(List.of("auth.issuer"), ConfigChanges.changedKeys(GatewayConfig.defaults(), withIssuer));
    }

    @Test
    void restartOnlyKeysAreMatchedByKeyOrSection() {
        assertEquals(
                List.of("server.port", "pool.min_idle", "auth.public_keys[0].file", "admin.port"),
                ConfigChanges.restartOnly(List.of(
                        "server.port",
                        "server.allowed_origins",
                        "pool.min_idle",
                        "sessions.max_sessions",
                        "auth.public_keys[0].file",
                        "auth.refresh_lead",
                        "admin.port",
                        "limits.max_duration",
                        "worker.process.command")));
        assertFalse(ConfigChanges.isRestartOnly("server.portable"), "a prefix matches whole keys only");
        assertTrue(ConfigChanges.isRestartOnly("worker.echo.deltas"));
        assertFalse(ConfigChanges.isRestartOnly("worker.process.env.X"));
        assertFalse(ConfigChanges.isRestartOnly("reload.interval"), "the reloader reschedules itself");
    }

    @Test
    void effectiveKeepsRestartOnlyKeysAndTakesLiveOnes() {
        GatewayConfig running = parse("server: {port: 0}");
        GatewayConfig next = parse("""
                server: {port: 9000, path: /other, allowed_origins: ["https://app.example.com"]}
                sessions: {max_sessions_per_user: 1, tombstone_ttl: 5m}
                pool: {min_idle: 0}
                limits: {max_duration: 1h, rss_poll_interval: 1s}
                """);
        GatewayConfig effective = ConfigChanges.effective(running, next);
        assertNotSame(next, effective);
        assertEquals(0, effective.server().port());
        assertEquals("/ws", effective.server().path());
        assertEquals(List.of("https://app.example.com"), effective.server().allowedOrigins());
        assertEquals(1, effective.sessions().maxSessionsPerUser());
        assertEquals(Duration.ofHours(1), effective.sessions().tombstoneTtl());
        assertEquals(running.pool(), effective.pool());
        assertEquals(Duration.ofHours(1), effective.limits().maxDuration());
        assertEquals(running.limits().rssPollInterval(), effective.limits().rssPollInterval());
    }

    @Test
    void whatEffectiveLeavesOutIsExactlyTheRestartOnlyChanges() {
        GatewayConfig running = GatewayConfig.defaults();
        GatewayConfig next = parse("""
                server: {port: 9000, handshake_timeout: 3s}
                auth: {issuer: https://issuer.example, refresh_lead: 2m}
                worker: {kind: echo, process: {stop_grace: 1s}}
                abuse: {connection_burst: 5}
                logging: {format: json}
                """);
        List<String> changed = ConfigChanges.changedKeys(running, next);
        List<String> pending = ConfigChanges.changedKeys(ConfigChanges.effective(running, next), next);
        assertEquals(ConfigChanges.restartOnly(changed), pending);
        assertEquals(List.of("server.port", "auth.issuer", "worker.kind", "logging.format"), pending);
    }

    @Test
    void theSecretIsNamedNeverShown() {
        GatewayConfig next = parse("auth: {hmac_secret: another-secret-that-is-long-enough-0123456789}");
        List<String> changed = ConfigChanges.changedKeys(GatewayConfig.defaults(), next);
        assertEquals(List.of("auth.hmac_secret"), changed);
        assertTrue(ConfigChanges.isRestartOnly("auth.hmac_secret"));
    }
}
