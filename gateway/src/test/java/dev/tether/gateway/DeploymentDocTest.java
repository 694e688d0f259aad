package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/deployment.md and the examples under docs/deploy/ honest: the nginx config shown is
 * the file NginxIT runs, and the Kubernetes and systemd numbers fit the gateway's settings. The
 * examples themselves are not deployed by any test.
 */
class DeploymentDocTest {

    private static final Path DOCS = Path.of("..", "docs");
    /** The Kubernetes example's preStop sleep. */
    private static final Duration PRE_STOP = Duration.ofSeconds(5);

    @Test
    void nginxPlaceholdersSitOnlyWhereTheirValuesGo() throws Exception {
        // A user replaces every occurrence; a multi-line value inside a comment would break the file.
        for (String line : read(DOCS.resolve("deploy/nginx.conf")).lines().toList()) {
            if (line.strip().startsWith("#")) {
                assertTrue(!Pattern.compile("@[A-Z_]+@").matcher(line).find(), "a placeholder in a comment: " + line);
            }
        }
    }

    @Test
    void deploymentMdShowsTheTestedNginxConfigVerbatim() throws Exception {
        String doc = read(DOCS.resolve("deployment.md"));
        String conf = read(DOCS.resolve("deploy/nginx.conf"));
        assertTrue(
                doc.contains("```nginx\n" + conf + "```\n"),
                "docs/deployment.md must quote docs/deploy/nginx.conf verbatim");
    }

    @Test
    void kubernetesExampleFitsItsOwnGatewayConfig() throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it =
                new YAMLMapper().readerFor(JsonNode.class).readValues(read(DOCS.resolve("deploy/kubernetes.yaml")))) {
            it.forEachRemaining(docs::add);
        }
        JsonNode configMap = kind(docs, "ConfigMap");
        GatewayConfig config =
                ConfigLoader.parse(configMap.path("data").path("gateway.yaml").asText(), Map.of());
        JsonNode pod = kind(docs, "Deployment").path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);

        Duration stop = PRE_STOP.plus(config.drain().timeout())
                .plus(config.worker().process().stopGrace())
                .plus(config.worker().process().killGrace());
        assertTrue(
                pod.path("terminationGracePeriodSeconds").asLong() > stop.toSeconds(),
                "terminationGracePeriodSeconds must exceed preStop + drain + worker graces = " + stop);
        assertEquals(
                "/readyz",
                container.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals(
                "/healthz",
                container.path("livenessProbe").path("httpGet").path("path").asText());

        long workers = (long) config.sessions().maxSessions() + config.pool().minIdle();
        long limit =
                bytes(container.path("resources").path("limits").path("memory").asText());
        assertTrue(
                limit >= workers * config.limits().rssHardLimit(),
                "memory limit " + limit + " below " + workers + " workers x rss_hard_limit");
        assertTrue(config.pool().maxWorkers() <= workers, "pool.max_workers beyond what the memory limit is sized for");
        assertEquals("0.0.0.0", config.server().host(), "a pod is reached on its own address, not loopback");
    }

    @Test
    void systemdStopTimeoutOutlastsTheDrain() throws Exception {
        String unit = read(DOCS.resolve("deploy/tether-gateway.service"));
        GatewayConfig defaults = GatewayConfig.defaults();
        Duration stop = defaults.drain()
                .timeout()
                .plus(defaults.worker().process().stopGrace())
                .plus(defaults.worker().process().killGrace());
        Matcher timeout = Pattern.compile("(?m)^TimeoutStopSec=(\\d+)$").matcher(unit);
        assertTrue(timeout.find(), "TimeoutStopSec");
        assertTrue(Long.parseLong(timeout.group(1)) > stop.toSeconds(), "TimeoutStopSec must exceed " + stop);
        for (String line :
                List.of("KillSignal=SIGTERM", "Restart=on-failure", "EnvironmentFile=/etc/tether/tether.env")) {
            assertTrue(unit.lines().anyMatch(line::equals), line);
        }
    }

    private static JsonNode kind(List<JsonNode> docs, String kind) {
        return docs.stream()
                .filter(d -> kind.equals(d.path("kind").asText()))
                .findFirst()
                .orElseThrow();
    }

    /** A Kubernetes quantity in Gi or Mi. */
    private static long bytes(String quantity) {
        if (quantity.endsWith("Gi")) {
            return Long.parseLong(quantity.substring(0, quantity.length() - 2)) << 30;
        }
        if (quantity.endsWith("Mi")) {
            return Long.parseLong(quantity.substring(0, quantity.length() - 2)) << 20;
        }
        throw new AssertionError("unexpected quantity " + quantity);
    }

    @Test
    void theSentinelAndClusterSnippetsAreValidConfigs() throws Exception {
        // The snippets are list items, indented by two; each is a sessions: section of a node's config.
        Matcher block = Pattern.compile("\n  ```yaml\n(.*?)\n  ```\n", Pattern.DOTALL)
                .matcher(read(DOCS.resolve("deployment.md")));
        List<String> uris = new ArrayList<>();
        while (block.find()) {
            String yaml = block.group(1).replaceAll("(?m)^  ", "");
            GatewayConfig config = ConfigLoader.parse("server:\n  node_id: n1\n" + yaml, Map.of());
            assertTrue(config.sessions().shared(), yaml);
            uris.add(config.sessions().redis().uri());
        }
        assertEquals(2, uris.size(), uris::toString);
        assertTrue(uris.get(0).startsWith("redis-sentinel://"), uris::toString);
        assertTrue(uris.get(1).startsWith("redis-cluster://"), uris::toString);
    }

    private static String read(Path file) throws Exception {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
