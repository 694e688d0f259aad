package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The benchmark configs under {@code config/bench/} (docs/benchmarks.md) load, so a renamed or
 * re-validated key cannot silently break a documented benchmark command.
 */
class BenchConfigsTest {

    private static final Path BENCH = Path.of("..", "config", "bench");

    @Test
    void everyBenchmarkConfigLoads() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(BENCH)) {
            files = listing.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no configs in " + BENCH.toAbsolutePath());
        for (Path file : files) {
            // The load client gives every launched node its id (the configs with sessions in Redis need one).
            GatewayConfig config = ConfigLoader.load(file, Map.of(ConfigLoader.ENV_NODE_ID, "node-1"));
            assertEquals("127.0.0.1", config.server().host(), file + ": benchmarks bind loopback");
        }
    }

    @Test
    void warmAndColdVariantsDifferFromTheDemoConfigOnlyInTheirPool() {
        GatewayConfig demo = ConfigLoader.load(BENCH.resolve("demo.yaml"), Map.of());
        GatewayConfig warm = ConfigLoader.load(BENCH.resolve("demo-warm.yaml"), Map.of());
        GatewayConfig cold = ConfigLoader.load(BENCH.resolve("demo-cold.yaml"), Map.of());
        assertEquals(100, warm.pool().minIdle());
        assertEquals(0, cold.pool().minIdle());
        assertTrue(warm.pool().minIdle() <= warm.pool().maxWorkers());
        assertEquals(demo.sessions(), warm.sessions());
        assertEquals(demo.sessions(), cold.sessions());
        assertEquals(demo.worker(), warm.worker());
        assertEquals(demo.worker(), cold.worker());
    }
}
