package dev.tether.gateway.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a config reload changes: the dotted keys that differ between two configurations, which of
 * them only take effect after a restart, and the configuration a running gateway can actually
 * switch to (the new one, with every restart-only key kept at its running value).
 *
 * <p>{@link #RESTART_ONLY} is the one list of keys that cannot change while the gateway runs; every
 * other key is live (see docs/configuration.md for when each applies). Stateless and thread-safe.
 */
public final class ConfigChanges {

    /**
     * Keys (or whole sections) read once when the gateway starts, with the reason. A key listed
     * here covers every key below it ({@code pool} covers {@code pool.min_idle}).
     */
    public static final Map<String, String> RESTART_ONLY = restartOnly();

    private ConfigChanges() {}

    /**
     * The outcome of applying a reloaded configuration.
     *
     * @param changed the dotted keys whose values changed, in file order
     * @param needRestart those of them that keep their running value until a restart
     */
    public record Applied(List<String> changed, List<String> needRestart) {
        public Applied {
            changed = List.copyOf(changed);
            needRestart = List.copyOf(needRestart);
        }
    }

    private static Map<String, String> restartOnly() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("server.host", "the listening socket is bound once");
        keys.put("server.port", "the listening socket is bound once");
        keys.put("server.path", "clients and proxies address the endpoint by it");
        keys.put("server.io_threads", "the event loops are created once");
        keys.put("server.prefer_epoll", "the transport is chosen once");
        keys.put("server.node_id", "session ids, and the proxy's routing of resumes, depend on it");
        keys.put(
                "server.tls",
                "the TLS provider and the files watched are chosen once (their content reloads on its own)");
        keys.put("sessions.store", "sessions are kept where the gateway started keeping them");
        keys.put("sessions.redis", "the connection to the session store and this node's lease are made once");
        keys.put("auth.algorithms", "the token verifier is built at start-up (key files still reload)");
        keys.put("auth.hmac_secret", "the token verifier is built at start-up");
        keys.put("auth.public_keys", "the list of key sources is fixed; the content of key files reloads on its own");
        keys.put("auth.issuer", "the token verifier is built at start-up");
        keys.put("auth.audience", "the token verifier is built at start-up");
        keys.put("auth.clock_skew", "the token verifier is built at start-up");
        keys.put("auth.key_reload_interval", "the key file checks are scheduled once");
        keys.put("sessions.tombstone_ttl", "the tombstone cache is built once");
        keys.put("sessions.tombstone_max_entries", "the tombstone cache is built once");
        keys.put("worker.kind", "the worker source is chosen once");
        keys.put("worker.echo", "the echo worker source is built once");
        keys.put("worker.process.limit_enforcement", "control groups are looked for once, at start-up");
        keys.put("pool", "the warm pool is sized and scheduled once");
        keys.put("limits.rss_poll_interval", "the RSS sampler is scheduled once");
        keys.put("worker.process.disk_poll_interval", "the disk measurement is scheduled once");
        keys.put("drain", "read by the shutdown path as configured at start-up");
        keys.put("heartbeat", "read when the gateway starts");
        keys.put("logging", "the log encoder is set up once");
        keys.put("admin", "the admin listener is bound once");
        keys.put("web", "the web routes and the demo page's assets are set up once");
        return Map.copyOf(keys);
    }

    /** The dotted keys whose values differ between {@code before} and {@code after}, in file order. */
    public static List<String> changedKeys(GatewayConfig before, GatewayConfig after) {
        List<String> changed = new ArrayList<>();
        diff(tree(before), tree(after), "", changed);
        return changed;
    }

    /** Those of {@code keys} that need a restart to take effect. */
    public static List<String> restartOnly(List<String> keys) {
        return keys.stream().filter(ConfigChanges::isRestartOnly).toList();
    }

    /** Whether {@code key} (a dotted key as {@link #changedKeys} gives) needs a restart to change. */
    public static boolean isRestartOnly(String key) {
        return RESTART_ONLY.keySet().stream()
                .anyMatch(prefix -> key.equals(prefix) || key.startsWith(prefix + ".") || key.startsWith(prefix + "["));
    }

    /**
     * The configuration a gateway running {@code running} switches to when asked for {@code next}:
     * {@code next}, with every {@link #RESTART_ONLY} key at its value in {@code running}. A new
     * object; neither argument changes.
     *
     * @throws ConfigException if the mix is invalid (a live key checked against a restart-only one)
     */
    public static GatewayConfig effective(GatewayConfig running, GatewayConfig next) {
        JsonNode kept = tree(running);
        ObjectNode mixed = (ObjectNode) tree(next);
        for (String key : RESTART_ONLY.keySet()) {
            String[] parts = key.split("\\.", -1);
            ObjectNode target = mixed;
            JsonNode source = kept;
            for (int i = 0; i < parts.length - 1; i++) {
                target = (ObjectNode) target.get(parts[i]);
                source = source.get(parts[i]);
            }
            String last = parts[parts.length - 1];
            target.set(last, source.get(last).deepCopy());
        }
        try {
            return ConfigMapper.MAPPER.treeToValue(mixed, GatewayConfig.class);
        } catch (JacksonException | IllegalArgumentException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof ConfigException invalid) {
                    throw new ConfigException(
                            invalid.getMessage() + " (with the restart-only keys kept at their running values)",
                            invalid);
                }
            }
            throw new ConfigException("invalid configuration with the restart-only keys kept: " + e.getMessage(), e);
        }
    }

    private static JsonNode tree(GatewayConfig config) {
        return ConfigMapper.MAPPER.valueToTree(requireNonNull(config, "config"));
    }

    private static void diff(JsonNode before, JsonNode after, String path, List<String> changed) {
        if (before != null && after != null && before.isObject() && after.isObject()) {
            List<String> names = new ArrayList<>();
            before.fieldNames().forEachRemaining(names::add);
            for (Iterator<String> it = after.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!names.contains(name)) {
                    names.add(name);
                }
            }
            for (String name : names) {
                diff(before.get(name), after.get(name), path.isEmpty() ? name : path + "." + name, changed);
            }
            return;
        }
        boolean same = before == null
                ? after == null || after.isNull()
                : before.equals(after) || (after == null && before.isNull());
        if (!same) {
            changed.add(path);
        }
    }
}
