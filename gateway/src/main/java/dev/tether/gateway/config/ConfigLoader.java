package dev.tether.gateway.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.auth.KeySource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code config/gateway.yaml} into a {@link GatewayConfig}, once, at startup, on the main
 * thread.
 *
 * <p>The file's YAML tree is merged over the tree of {@link GatewayConfig#defaults()}, so every key
 * is optional and a key given as {@code null} (or left empty) keeps its default. Then the
 * environment overrides ({@code TETHER_PORT}, {@code TETHER_ADMIN_PORT}, {@code TETHER_JWT_SECRET},
 * {@code TETHER_NODE_ID}) are applied, the tree is
 * bound to the records (whose constructors validate), and public key files are checked to exist.
 * Every failure is a {@link ConfigException} naming the dotted key, the value and what was expected.
 */
public final class ConfigLoader {
    /** Overrides {@code server.port}. */
    public static final String ENV_PORT = "TETHER_PORT";
    /** Overrides {@code auth.hmac_secret}. */
    public static final String ENV_JWT_SECRET = "TETHER_JWT_SECRET";
    /**
     * Overrides {@code server.node_id}: replicas that share one config file (a Kubernetes
     * ConfigMap) each get their own id, e.g. from the pod name.
     */
    public static final String ENV_NODE_ID = "TETHER_NODE_ID";
    /**
     * Overrides {@code admin.port}: a second gateway on one machine (or a test run beside a running
     * gateway) moves its admin listener as {@link #ENV_PORT} moves the main one.
     */
    public static final String ENV_ADMIN_PORT = "TETHER_ADMIN_PORT";
    /** Sets {@code server.tls.key_password}: the password of an encrypted TLS private key, outside the file. */
    public static final String ENV_TLS_KEY_PASSWORD = "TETHER_TLS_KEY_PASSWORD";
    /** Overrides {@code sessions.redis.uri}: the place for a Redis password, outside the file. */
    public static final String ENV_REDIS_URI = "TETHER_REDIS_URI";
    /** Where {@link #loadDefault(Map)} looks, relative to the working directory. */
    public static final Path DEFAULT_FILE = Path.of("config", "gateway.yaml");

    private static final String SECRET_KEY = "auth.hmac_secret";
    private static final String SECRET_FIELD = "hmac_secret";
    private static final String TLS_PASSWORD_KEY = "server.tls.key_password";
    private static final String TLS_PASSWORD_FIELD = "key_password";
    private static final String REDACTED = "<redacted>";

    private ConfigLoader() {}

    /**
     * Loads {@code file} with the environment overrides in {@code env}.
     *
     * @throws ConfigException if the file is missing or unreadable, or any value is invalid
     */
    public static GatewayConfig load(Path file, Map<String, String> env) {
        requireNonNull(file, "file");
        requireNonNull(env, "env");
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(
                    "config file " + file.toAbsolutePath() + ": not found (expected: a YAML file)", null);
        }
        String yaml;
        try {
            yaml = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("config file " + file.toAbsolutePath() + ": cannot be read: " + e, e);
        }
        return parse(yaml, file.toString(), env);
    }

    /**
     * Loads {@link #DEFAULT_FILE} if it exists in the working directory, else the built-in defaults;
     * either way with the environment overrides in {@code env}.
     */
    public static GatewayConfig loadDefault(Map<String, String> env) {
        return loadDefault(Path.of(""), env);
    }

    static GatewayConfig loadDefault(Path workingDirectory, Map<String, String> env) {
        Path file = workingDirectory.resolve(DEFAULT_FILE);
        return Files.isRegularFile(file) ? load(file, env) : parse("", "built-in defaults", env);
    }

    /** Parses YAML text as if it were the config file; for tests and tools. */
    public static GatewayConfig parse(String yaml, Map<String, String> env) {
        return parse(yaml, "config text", env);
    }

    private static GatewayConfig parse(String yaml, String source, Map<String, String> env) {
        requireNonNull(yaml, "yaml");
        requireNonNull(env, "env");
        JsonNode fileTree = readTree(yaml, source);
        if (!fileTree.isMissingNode() && !fileTree.isNull() && !fileTree.isObject()) {
            throw new ConfigException(
                    "(root)",
                    fileTree.getNodeType().toString().toLowerCase(Locale.ROOT),
                    "a mapping of sections: server, auth, sessions, worker, pool, limits, abuse, drain, heartbeat, reload, logging, admin, web");
        }
        JsonNode defaults = ConfigMapper.MAPPER.valueToTree(GatewayConfig.defaults());
        JsonNode merged = merge(defaults, fileTree);
        applyEnvironment(merged, env);
        GatewayConfig config = bind(merged, defaults, env);
        checkPublicKeyFiles(config.auth());
        return config;
    }

    private static JsonNode readTree(String yaml, String source) {
        try {
            return ConfigMapper.MAPPER.readTree(yaml);
        } catch (JacksonException e) {
            JsonLocation where = e.getLocation();
            String at = where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
            throw new ConfigException(source + ": invalid YAML" + at + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Free-form mappings (names chosen by the operator, not keys of a record): a value given in the
     * file replaces the default mapping whole instead of being merged into it.
     */
    private static final Set<String> REPLACED_WHOLE = Set.of("worker.process.env");

    /** Objects merge key by key; anything else in the file replaces the default; null keeps it. */
    static JsonNode merge(JsonNode base, JsonNode override) {
        return merge(base, override, "");
    }

    private static JsonNode merge(JsonNode base, JsonNode override, String path) {
        if (override == null || override.isNull() || override.isMissingNode()) {
            return base;
        }
        if (base instanceof ObjectNode baseObject
                && override instanceof ObjectNode overrideObject
                && !REPLACED_WHOLE.contains(path)) {
            ObjectNode result = baseObject.deepCopy();
            for (Map.Entry<String, JsonNode> field : overrideObject.properties()) {
                String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                JsonNode value = merge(baseObject.get(field.getKey()), field.getValue(), child);
                result.set(field.getKey(), value == null ? field.getValue() : value);
            }
            return result;
        }
        return override;
    }

    private static void applyEnvironment(JsonNode merged, Map<String, String> env) {
        String port = env.get(ENV_PORT);
        if (port != null && merged.get("server") instanceof ObjectNode server) {
            server.set("port", IntNode.valueOf(parsePort(ENV_PORT, port, "server.port")));
        }
        String adminPort = env.get(ENV_ADMIN_PORT);
        if (adminPort != null && merged.get("admin") instanceof ObjectNode admin) {
            admin.set("port", IntNode.valueOf(parsePort(ENV_ADMIN_PORT, adminPort, "admin.port")));
        }
        String secret = env.get(ENV_JWT_SECRET);
        if (secret != null && merged.get("auth") instanceof ObjectNode auth) {
            auth.set(SECRET_FIELD, TextNode.valueOf(secret));
        }
        String redisUri = env.get(ENV_REDIS_URI);
        if (redisUri != null && merged.get("sessions") instanceof ObjectNode sessionsNode) {
            JsonNode redis = sessionsNode.get("redis");
            ObjectNode redisNode = redis instanceof ObjectNode existing ? existing : sessionsNode.putObject("redis");
            redisNode.set("uri", TextNode.valueOf(redisUri));
        }
        String keyPassword = env.get(ENV_TLS_KEY_PASSWORD);
        if (keyPassword != null
                && merged.get("server") instanceof ObjectNode server
                && server.get("tls") instanceof ObjectNode tls) {
            tls.set(TLS_PASSWORD_FIELD, TextNode.valueOf(keyPassword));
        }
        String nodeId = env.get(ENV_NODE_ID);
        if (nodeId != null && merged.get("server") instanceof ObjectNode server) {
            server.set("node_id", TextNode.valueOf(nodeId));
        }
    }

    private static int parsePort(String variable, String text, String key) {
        String expected =
                "an integer port " + ServerConfig.MIN_PORT + ".." + ServerConfig.MAX_PORT + " (overrides " + key + ")";
        try {
            int port = Integer.parseInt(text.strip());
            if (port >= ServerConfig.MIN_PORT && port <= ServerConfig.MAX_PORT) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below, with the variable's name
        }
        throw new ConfigException(variable, text, expected);
    }

    private static GatewayConfig bind(JsonNode merged, JsonNode defaults, Map<String, String> env) {
        try {
            return ConfigMapper.MAPPER.treeToValue(merged, GatewayConfig.class);
        } catch (JacksonException | IllegalArgumentException e) {
            throw translate(e, merged, defaults, env);
        }
    }

    /** Turns Jackson's exception into one that names the dotted key, the value and the expectation. */
    private static ConfigException translate(Exception e, JsonNode merged, JsonNode defaults, Map<String, String> env) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConfigException invalid) {
                boolean fromEnv = SECRET_KEY.equals(invalid.key()) && env.containsKey(ENV_JWT_SECRET);
                return fromEnv ? invalid.fromEnvironment(ENV_JWT_SECRET) : invalid;
            }
        }
        if (!(e instanceof JsonMappingException mapping) || mapping.getPath().isEmpty()) {
            return new ConfigException("invalid configuration: " + e.getMessage(), e);
        }
        List<JsonMappingException.Reference> path = mapping.getPath();
        String key = dottedKey(path);
        if (e instanceof UnrecognizedPropertyException unknown) {
            return new ConfigException(
                    key + ": unknown key (expected one of: "
                            + String.join(", ", knownKeys(defaults, path, unknown.getKnownPropertyIds())) + ")",
                    e);
        }
        Object value = SECRET_KEY.equals(key) || TLS_PASSWORD_KEY.equals(key) ? REDACTED : render(nodeAt(merged, path));
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConfigMapper.BadValue bad) {
                return withCause(new ConfigException(key, value, bad.expected()), e);
            }
        }
        return withCause(new ConfigException(key, value, describe(targetType(e))), e);
    }

    private static ConfigException withCause(ConfigException exception, Exception cause) {
        exception.initCause(cause);
        return exception;
    }

    static String dottedKey(List<JsonMappingException.Reference> path) {
        StringBuilder key = new StringBuilder();
        for (JsonMappingException.Reference reference : path) {
            if (reference.getFieldName() != null) {
                if (key.length() > 0) {
                    key.append('.');
                }
                key.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                key.append('[').append(reference.getIndex()).append(']');
            }
        }
        return key.length() == 0 ? "(root)" : key.toString();
    }

    /** The keys of the enclosing section in declaration order, taken from the defaults when there. */
    private static List<String> knownKeys(
            JsonNode defaults, List<JsonMappingException.Reference> path, Collection<Object> fromJackson) {
        JsonNode section = nodeAt(defaults, path.subList(0, path.size() - 1));
        List<String> keys = new ArrayList<>();
        if (section != null && section.isObject()) {
            section.fieldNames().forEachRemaining(keys::add);
        } else {
            fromJackson.forEach(k -> keys.add(String.valueOf(k)));
        }
        return keys;
    }

    private static JsonNode nodeAt(JsonNode root, List<JsonMappingException.Reference> path) {
        JsonNode node = root;
        for (JsonMappingException.Reference reference : path) {
            if (node == null) {
                return null;
            }
            node = reference.getFieldName() != null
                    ? node.get(reference.getFieldName())
                    : node.get(reference.getIndex());
        }
        return node;
    }

    /** The value as written, for a message; a section shown whole has its secret redacted. */
    private static Object render(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isValueNode()) {
            return node.asText();
        }
        JsonNode copy = node.deepCopy();
        redactSecrets(copy);
        return copy.toString();
    }

    private static void redactSecrets(JsonNode node) {
        if (node instanceof ObjectNode object && object.has(SECRET_FIELD)) {
            object.put(SECRET_FIELD, REDACTED);
        }
        if (node instanceof ObjectNode object && object.hasNonNull(TLS_PASSWORD_FIELD)) {
            object.put(TLS_PASSWORD_FIELD, REDACTED);
        }
        node.forEach(ConfigLoader::redactSecrets);
    }

    /** The Java type Jackson could not produce, or {@code null} if it did not say. */
    private static Class<?> targetType(Exception e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
                return mismatch.getTargetType();
            }
            if (cause instanceof InputCoercionException coercion && coercion.getTargetType() != null) {
                return coercion.getTargetType();
            }
        }
        return null;
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "a valid value";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (type.isRecord()) {
            return "a mapping";
        }
        return "a value of type " + type.getSimpleName();
    }

    /**
     * Reads every key file and inline PEM once, so that a missing or unusable key fails start-up
     * naming its entry (the gateway reads them again, and re-reads changed files while it runs).
     * JWK Sets are checked to give each enabled public-key algorithm at least one key.
     */
    private static void checkPublicKeyFiles(AuthConfig auth) {
        List<PublicKeyConfig> keys = auth.publicKeys();
        List<KeySource> sources = auth.keySources();
        Set<String> enabled = Set.copyOf(auth.algorithms());
        Set<String> found = new HashSet<>();
        for (int i = 0; i < keys.size(); i++) {
            PublicKeyConfig config = keys.get(i);
            String what = config.readsJwkSet() ? "JWK Set file" : "PEM public key file";
            String key = "auth.public_keys[" + i + "]" + (config.file() != null ? ".file" : ".pem");
            Object value = config.file() != null ? config.file().toString() : PublicKeyConfig.describePem(config.pem());
            Path file = config.file();
            if (file != null && (!Files.isRegularFile(file) || !Files.isReadable(file))) {
                throw new ConfigException(
                        key,
                        value,
                        "a readable " + what + " (working directory: "
                                + Path.of("").toAbsolutePath() + ")");
            }
            try {
                sources.get(i).read(enabled, skipped -> {}).forEach(entry -> found.add(entry.algorithm()));
            } catch (UncheckedIOException e) {
                throw new ConfigException(key, value, "a readable " + what + "; " + e.getMessage());
            } catch (IllegalArgumentException e) {
                String expected = config.readsJwkSet() ? "a JWK Set" : "a PEM public key for " + config.algorithm();
                throw new ConfigException(key, value, expected + "; " + e.getMessage());
            }
        }
        for (String algorithm : AuthConfig.PUBLIC_KEY_ALGORITHMS) {
            if (enabled.contains(algorithm) && !found.contains(algorithm)) {
                throw new ConfigException(
                        "auth.public_keys",
                        AuthConfig.describe(keys),
                        "at least one key with algorithm " + algorithm + ", because auth.algorithms contains it;"
                                + " the JWK Sets hold none usable");
            }
        }
    }
}
