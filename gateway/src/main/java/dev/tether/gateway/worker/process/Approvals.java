package dev.tether.gateway.worker.process;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.RequestOutcome;

/**
 * The client's side of an agent CLI's approval (contract 8.10), whatever the CLI: {@code respond}
 * data {@code {"decision":"allow"|"deny","message":<optional text>}}; a timeout or a cancel is a deny.
 */
final class Approvals {

    private Approvals() {}

    /** Why {@code data} is not an approval's answer, or null when it is. */
    static String check(JsonNode data) {
        if (data == null || !data.isObject()) {
            return "expected {\"decision\":\"allow\"|\"deny\"}";
        }
        String decision = data.path("decision").textValue();
        if (!"allow".equals(decision) && !"deny".equals(decision)) {
            return "decision: expected \"allow\" or \"deny\"";
        }
        if (data.has("message") && !data.get("message").isTextual()) {
            return "message: expected a string";
        }
        return null;
    }

    static boolean allows(JsonNode data) {
        return data != null && "allow".equals(data.path("decision").textValue());
    }

    /** What the CLI is told when the user did not allow: their message, or why nobody answered. */
    static String denial(RequestOutcome outcome, JsonNode data) {
        return switch (outcome) {
            case ANSWERED ->
                data != null && data.path("message").isTextual()
                        ? data.path("message").textValue()
                        : "The user denied this.";
            case TIMEOUT -> "Nobody answered in time: denied.";
            case CANCELLED -> "The request was cancelled: denied.";
        };
    }
}
