package dev.tether.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/** Deep-merges YAML documents for test configs: keys of {@code overlay} win, maps merge. */
public final class Yaml {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Yaml() {}

    /**
     * Config for a worker killed over {@code mib} MiB of RSS by the gateway's sampler every 100 ms
     * (soft and hard limit alike, no control group: the polled hard limit).
     */
    public static String polledRssHardLimit(long mib) {
        return """
                worker:
                  process:
                    limit_enforcement: poll
                limits:
                  rss_poll_interval: 100ms
                  rss_soft_limit: %dMiB
                  rss_hard_limit: %dMiB
                """.formatted(mib, mib);
    }

    public static String merge(String base, String overlay) {
        try {
            JsonNode baseTree = YAML.readTree(base);
            JsonNode overlayTree = YAML.readTree(overlay);
            if (overlayTree == null || overlayTree.isMissingNode() || overlayTree.isNull()) {
                return base;
            }
            merge((ObjectNode) baseTree, (ObjectNode) overlayTree);
            return YAML.writeValueAsString(baseTree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void merge(ObjectNode base, ObjectNode overlay) {
        Iterator<Map.Entry<String, JsonNode>> fields = overlay.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode existing = base.get(field.getKey());
            if (existing instanceof ObjectNode existingObject && field.getValue() instanceof ObjectNode overlayObject) {
                merge(existingObject, overlayObject);
            } else {
                base.set(field.getKey(), field.getValue());
            }
        }
    }
}
