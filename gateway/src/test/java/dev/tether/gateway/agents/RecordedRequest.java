package dev.tether.gateway.agents;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.Map;
import org.junit.jupiter.api.Assertions;

/**
 * One HTTP request a model-API stand-in got, as it arrived: method, URI with its query string,
 * headers (names in lower case) and body. Immutable; read from any thread.
 */
public record RecordedRequest(String method, String uri, Map<String, String> headers, String body) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public RecordedRequest {
        headers = Map.copyOf(headers);
    }

    /** The URI without its query string ({@code /v1/messages} for {@code /v1/messages?beta=true}). */
    public String path() {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    /** The body parsed as JSON; fails the test when it is not JSON. */
    public JsonNode json() {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("request body of " + method + " " + uri + " is not JSON", e);
        }
    }

    /** Whether the body contains {@code text} anywhere (a prompt, a tool result, an earlier turn). */
    public boolean mentions(String text) {
        return body.contains(text);
    }

    /**
     * Asserts that this request, the first after a resume, sends the earlier turn again (its prompt and
     * its answer) along with the new prompt: the CLI rebuilt the conversation from its own store.
     */
    public void assertResends(String earlierPrompt, String earlierAnswer, String newPrompt) {
        Assertions.assertTrue(mentions(earlierPrompt), "the earlier prompt is sent again");
        Assertions.assertTrue(mentions(earlierAnswer), "the earlier answer is sent again");
        Assertions.assertTrue(mentions(newPrompt), newPrompt);
    }
}
