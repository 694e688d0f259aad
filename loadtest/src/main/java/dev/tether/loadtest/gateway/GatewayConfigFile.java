package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tether.loadtest.audit.TurnModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The few keys of a gateway config file (the YAML of {@code config/}) that a run needs to know to
 * predict and to time what it does: the worker (for the audit's {@link TurnModel}), the reconnect
 * window (planned expiries, premature ones), the heartbeat (half-open connections) and the replay
 * buffer. Keys not in the file have the gateway's defaults ({@code config/gateway.yaml}). It can
 * also derive a copy with some keys changed, for a launched gateway ({@code chaos --replay-buffer}).
 * Immutable.
 */
public final class GatewayConfigFile {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ns|us|ms|s|m|h|d)");

    private final Path path;
    private final ObjectNode root;

    private GatewayConfigFile(Path path, ObjectNode root) {
        this.path = path;
        this.root = root;
    }

    /** Reads {@code path}. */
    public static GatewayConfigFile read(Path path) {
        requireNonNull(path, "path");
        try {
            JsonNode node = YAML.readTree(path.toFile());
            return new GatewayConfigFile(
                    path, node instanceof ObjectNode object ? object : JsonNodeFactory.instance.objectNode());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the gateway config " + path + ": " + e.getMessage(), e);
        }
    }

    /** The gateway's built-in defaults (no file). */
    public static GatewayConfigFile defaults() {
        return new GatewayConfigFile(null, JsonNodeFactory.instance.objectNode());
    }

    /** The file read, or null for {@link #defaults()}. */
    public Path path() {
        return path;
    }

    /** {@code worker.kind}: {@code process} (the default) or {@code echo}. */
    public String workerKind() {
        return text("worker", "kind", "process");
    }

    /** How the configured worker answers: the echo worker's fixed deltas, or the demo contract for process workers. */
    public TurnModel turnModel() {
        return workerKind().equals("echo") ? TurnModel.echo(integer(3, "worker", "echo", "deltas")) : TurnModel.demo();
    }

    /** {@code sessions.reconnect_window} (default 5m). */
    public Duration reconnectWindow() {
        return duration(Duration.ofMinutes(5), "sessions", "reconnect_window");
    }

    /** {@code sessions.replay_max_messages} (default 10000). */
    public int replayMaxMessages() {
        return integer(10_000, "sessions", "replay_max_messages");
    }

    /** {@code sessions.max_sessions} (default 1000). */
    public int maxSessions() {
        return integer(1000, "sessions", "max_sessions");
    }

    /** {@code sessions.admission.max_wait} (default 2m). */
    public Duration admissionMaxWait() {
        return duration(Duration.ofMinutes(2), "sessions", "admission", "max_wait");
    }

    /** {@code limits.hibernate_after} (default 0: sessions never sleep; contract 8.9). */
    public Duration hibernateAfter() {
        return duration(Duration.ZERO, "limits", "hibernate_after");
    }

    /** {@code heartbeat.interval} (default 20s). */
    public Duration heartbeatInterval() {
        return duration(Duration.ofSeconds(20), "heartbeat", "interval");
    }

    /** {@code heartbeat.timeout} (default 60s). */
    public Duration heartbeatTimeout() {
        return duration(Duration.ofSeconds(60), "heartbeat", "timeout");
    }

    /** A copy with {@code section.key} set to {@code value}. */
    public GatewayConfigFile with(String section, String key, int value) {
        ObjectNode copy = root.deepCopy();
        JsonNode existing = copy.get(section);
        ObjectNode node = existing instanceof ObjectNode object ? object : copy.putObject(section);
        node.put(key, value);
        return new GatewayConfigFile(path, copy);
    }

    /** A copy with the key at the dotted {@code path} (e.g. {@code sessions.redis.write_mode}) set to {@code value}. */
    public GatewayConfigFile with(String path, String value) {
        ObjectNode copy = root.deepCopy();
        String[] keys = path.split("\\.", -1);
        if (Arrays.asList(keys).contains("")) {
            throw new IllegalArgumentException("not a dotted key: '" + path + "'");
        }
        ObjectNode node = copy;
        for (int i = 0; i < keys.length - 1; i++) {
            JsonNode existing = node.get(keys[i]);
            node = existing instanceof ObjectNode object ? object : node.putObject(keys[i]);
        }
        node.put(keys[keys.length - 1], value);
        return new GatewayConfigFile(this.path, copy);
    }

    /** {@code sessions.store}: {@code memory} (the default) or {@code redis}. */
    public String sessionStore() {
        return text("sessions", "store", "memory");
    }

    /** {@code sessions.redis.write_mode}: {@code before_send} (the default) or {@code batched}. */
    public String redisWriteMode() {
        JsonNode node = at("sessions", "redis", "write_mode");
        return node.isMissingNode() ? "before_send" : node.asText();
    }

    /** {@code sessions.redis.lease} (default 10s). */
    public Duration redisLease() {
        return duration(Duration.ofSeconds(10), "sessions", "redis", "lease");
    }

    /** Writes this config to {@code target} (comments of the original are not kept) and returns it. */
    public Path write(Path target) {
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            YAML.writeValue(target.toFile(), root);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    private JsonNode at(String... keys) {
        JsonNode node = root;
        for (String key : keys) {
            node = node.path(key);
        }
        return node.isNull() ? MissingNode.getInstance() : node;
    }

    private String text(String section, String key, String fallback) {
        JsonNode node = at(section, key);
        return node.isMissingNode() ? fallback : node.asText();
    }

    private int integer(int fallback, String... keys) {
        JsonNode node = at(keys);
        if (node.isMissingNode()) {
            return fallback;
        }
        if (!node.canConvertToInt()) {
            throw new IllegalArgumentException(
                    path + ": " + String.join(".", keys) + ": " + node + " (expected: an integer)");
        }
        return node.asInt();
    }

    private Duration duration(Duration fallback, String... keys) {
        JsonNode node = at(keys);
        if (node.isMissingNode()) {
            return fallback;
        }
        Matcher m = DURATION.matcher(node.asText().strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(path + ": " + String.join(".", keys) + ": " + node.asText()
                    + " (expected: a duration such as 250ms, 30s, 5m)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ns" -> Duration.ofNanos(n);
            case "us" -> Duration.ofNanos(n * 1000);
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
