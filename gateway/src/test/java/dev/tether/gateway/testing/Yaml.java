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
