package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ServerMessage;
import java.util.List;

/**
 * Reading a {@code codex-app-server} session from the client's side: its events are the server's
 * JSON-RPC notifications, verbatim ({@code {"method":...,"params":...}}). For the tests of the
 * adapter with the fake app-server and with the real one.
 */
final class CodexFrames {

    private CodexFrames() {}

    /**
     * Sends {@code text} as message {@code id} and returns what came up to the idle after its turn,
     * which must end with {@code turn/completed}. {@code thread/started} (the thread opened when the
     * worker was bound, which may come before the {@code accepted} or after it) is left out.
     */
    static List<ServerMessage> turn(SessionClient c, String id, String text) {
        c.send(id, JsonNodeFactory.instance.textNode(text).toString());
        boolean[] accepted = {false};
        List<ServerMessage> seen = c
                .until(m -> {
                    accepted[0] |= m instanceof ServerMessage.Accepted;
                    return accepted[0] && SessionClient.tag(m).equals("status:idle");
                })
                .stream()
                .filter(m -> !method(m).equals("thread/started"))
                .toList();
        List<String> methods = methods(seen);
        assertEquals("turn/completed", methods.isEmpty() ? null : methods.get(methods.size() - 1), seen::toString);
        return seen;
    }

    /** The notification method of an event, or empty for any other frame. */
    static String method(ServerMessage m) {
        return m instanceof ServerMessage.Event e ? e.event().path("method").asText() : "";
    }

    /** The methods of the events in {@code messages}, in order. */
    static List<String> methods(List<ServerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Event)
                .map(CodexFrames::method)
                .toList();
    }

    /** The last notification {@code method} in {@code messages}. */
    static JsonNode notification(List<ServerMessage> messages, String method) {
        return messages.stream()
                .filter(m -> method(m).equals(method))
                .map(m -> ((ServerMessage.Event) m).event())
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no " + method + " in " + methods(messages)));
    }

    /** The item of the last {@code item/completed} of type {@code type} in {@code messages}. */
    static JsonNode item(List<ServerMessage> messages, String type) {
        return messages.stream()
                .filter(m -> method(m).equals("item/completed"))
                .map(m -> ((ServerMessage.Event) m).event().at("/params/item"))
                .filter(item -> item.path("type").asText().equals(type))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no completed " + type + " in " + methods(messages)));
    }

    /** How the turn that the last {@code turn/completed} in {@code messages} ended: completed, interrupted, failed. */
    static String turnStatus(List<ServerMessage> messages) {
        return notification(messages, "turn/completed")
                .at("/params/turn/status")
                .asText();
    }

    /** The text of the last {@code item/completed} in {@code messages}, whatever the item's type. */
    static String lastItemText(List<ServerMessage> messages) {
        return notification(messages, "item/completed").at("/params/item/text").asText();
    }

    /** The text of the last completed {@code agentMessage} item in {@code messages}. */
    static String agentText(List<ServerMessage> messages) {
        return item(messages, "agentMessage").path("text").asText();
    }
}
