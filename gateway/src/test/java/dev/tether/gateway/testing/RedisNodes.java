package dev.tether.gateway.testing;

import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import java.util.Map;

/**
 * The config of a gateway node of the shared-store tests: demo workers (tagged with the test's
 * marker, so that leftovers are found), sessions in the Redis at {@code redisUri}, a 2 s lease, a
 * 10 s hand-off, two sessions per user, and the test secret.
 */
public final class RedisNodes {

    private RedisNodes() {}

    public static GatewayConfig config(String marker, String nodeId, String redisUri) {
        return config(marker, nodeId, redisUri, "");
    }

    /** Like {@link #config(String, String, String)}, with {@code overlay} merged over it. */
    public static GatewayConfig config(String marker, String nodeId, String redisUri, String overlay) {
        String yaml = DemoWorkers.config(marker, """
                server:
                  node_id: %s
                auth:
                  hmac_secret: %s
                sessions:
                  store: redis
                  handoff_timeout: 10s
                  max_sessions_per_user: 2
                  redis:
                    uri: %s
                    lease: 2s
                """.formatted(nodeId, GatewayProcess.TEST_SECRET, redisUri));
        return ConfigLoader.parse(overlay.isEmpty() ? yaml : Yaml.merge(yaml, overlay), Map.of());
    }
}
