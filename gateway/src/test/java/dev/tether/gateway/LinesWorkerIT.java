package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A plain line program as the worker ({@code worker.process.protocol: lines}), as websocketd runs
 * one: a shell loop that answers each stdin line with one stdout line, with no glue code. Messages
 * go straight through with no turns; every output line is an event {@code {"type":"line"}}.
 */
class LinesWorkerIT {

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("lines", """
            worker:
              process:
                protocol: lines
                command: [sh, -c, 'echo hello; while IFS= read -r l; do printf "got %s\\n" "$l"; done']
            """);

    @Test
    void eachMessageIsOneLineAndEachOutputLineAnEventWithNoTurns() {
        try (SessionClient c = SessionClient.openIdle(gateway, "lena")) {
            c.send("m1", "\"one\"");
            c.send("m2", "{\"text\":\"two\\nlines\"}");
            c.send("m3", "{\"other\":3}");
            List<String> lines = new ArrayList<>();
            List<ServerMessage> accepted = new ArrayList<>();
            List<ServerMessage> seen = new ArrayList<>();
            while (lines.size() < 4 || accepted.size() < 3) {
                ServerMessage m = c.next();
                seen.add(m);
                if (m instanceof ServerMessage.Event e) {
                    assertEquals("line", e.event().path("type").asText(), e.toString());
                    lines.add(e.event().path("text").asText());
                } else if (m instanceof ServerMessage.Accepted) {
                    accepted.add(m);
                }
            }
            // Printed before the worker was bound to this session (it was started ahead, in the pool): held, not lost.
            assertEquals(List.of("hello", "got one", "got two lines", "got {\"other\":3}"), lines);
            assertEquals(
                    List.of(
                            new ServerMessage.Accepted("m1", false, 0),
                            new ServerMessage.Accepted("m2", false, 0),
                            new ServerMessage.Accepted("m3", false, 0)),
                    accepted);
            assertEquals(
                    List.of(),
                    historyTags(seen).stream()
                            .filter(t -> t.startsWith("status"))
                            .toList(),
                    "no turns: the session stays idle");
            c.send(new ClientMessage.Interrupt()); // harmless: a line program cannot be told
            c.send("m4", "\"four\"");
            List<ServerMessage> last4 = c.until(m -> m instanceof ServerMessage.Event);
            ServerMessage.Event last = (ServerMessage.Event) last4.get(last4.size() - 1);
            assertEquals("got four", last.event().path("text").asText());
        }
    }
}
