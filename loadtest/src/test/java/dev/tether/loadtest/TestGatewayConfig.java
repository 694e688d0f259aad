package dev.tether.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The config files of the gateways the load test's ITs launch: the same base for all (on
 * {@code 127.0.0.1:0}, process workers, no file watcher, no admin listener, abuse limits that no
 * test's bursts reach) with what each test adds or changes on top.
 */
public final class TestGatewayConfig {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final String BASE = """
            server:
              host: 127.0.0.1
              port: 0
            worker:
              kind: process
            abuse:
              connections_per_second: 1000
              connection_burst: 1000
              messages_per_second: 1000
              message_burst: 1000
            reload:
              watch: false
            admin:
              enabled: false
            """;

    private TestGatewayConfig() {}

    /**
     * Writes the base with {@code yaml} merged over it, key by key (a key of {@code yaml} replaces
     * the base's, a section adds to the base's section), to {@code file}, and returns it.
     */
    public static Path write(Path file, String yaml) {
        try {
            ObjectNode config = (ObjectNode) YAML.readTree(BASE);
            merge(config, (ObjectNode) YAML.readTree(yaml));
            YAML.writeValue(file.toFile(), config);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The base with process workers running {@code command} (an empty environment), {@code minIdle}
     * kept warm, at most {@code maxWorkers}, spawned 10 ms apart, written to {@code file}.
     */
    public static Path processWorkers(Path file, Path command, int minIdle, int maxWorkers) {
        return write(file, """
                worker:
                  process:
                    command: ["%s"]
                    env: {}
                pool:
                  min_idle: %d
                  max_workers: %d
                  spawn_interval: 10ms
                """.formatted(command, minIdle, maxWorkers));
    }

    /**
     * Runs the load client with {@code args} against a gateway it launches itself from this build's
     * {@code gateway/target/gateway.jar} with {@code config}; returns the client's exit code.
     */
    public static int runLaunched(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(
                "--launch-gateway",
                "--gateway-jar",
                Path.of("..")
                        .toAbsolutePath()
                        .normalize()
                        .resolve("gateway/target/gateway.jar")
                        .toString(),
                "--gateway-config",
                config.toString()));
        return Main.run(all.toArray(String[]::new));
    }

    private static void merge(ObjectNode into, ObjectNode from) {
        for (Map.Entry<String, JsonNode> field : from.properties()) {
            if (into.get(field.getKey()) instanceof ObjectNode section && field.getValue() instanceof ObjectNode more) {
                merge(section, more);
            } else {
                into.set(field.getKey(), field.getValue());
            }
        }
    }
}
