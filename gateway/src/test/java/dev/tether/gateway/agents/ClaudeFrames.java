package dev.tether.gateway.agents;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ServerMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reading a {@code claude-stream-json} session from the client's side: its events are the CLI's
 * stream-json lines, verbatim, a turn ending with the {@code result} line. For the tests of the
 * adapter with the fake CLI and with the real one.
 */
final class ClaudeFrames {

    private ClaudeFrames() {}

    /**
     * Sends {@code text} as message {@code id} to an idle session and returns every frame up to the
     * idle after its result, checking that the turn began with {@code processing} and that the
     * result came last (like {@link SessionClient#roundTrip}, for a CLI whose result does not carry
     * the message id).
     */
    static List<ServerMessage> turn(SessionClient c, String id, String text) {
        c.sendAccepted(id, JsonNodeFactory.instance.textNode(text).toString(), 0);
        List<ServerMessage> turn = c.untilTag("status:idle");
        assertEquals(
                "status:processing",
                SessionClient.tag(turn.get(0)),
                () -> SessionClient.tags(turn).toString());
        assertEquals(
                "event:result",
                SessionClient.tag(turn.get(turn.size() - 2)),
                () -> SessionClient.tags(turn).toString());
        return turn;
    }

    /**
     * Checks that {@code turn} was one plain answer (processing, the CLI's {@code system init}, one
     * assistant message, the result, idle) and returns the {@code init} event.
     */
    static JsonNode assertPlainTurn(List<ServerMessage> turn) {
        assertEquals(
                List.of("status:processing", "event:system", "event:assistant", "event:result", "status:idle"),
                historyTags(turn));
        JsonNode init = SessionClient.event(turn, "system");
        assertEquals("init", init.path("subtype").asText());
        return init;
    }

    /**
     * Checks that the worker process {@code pid} was started with {@code --resume=<cliSession>} last,
     * read from {@code /proc} (ProcessHandle.Info cuts a long command line short).
     */
    static void assertStartedWithResume(long pid, String cliSession) {
        String command = commandLine(pid);
        assertTrue(
                command.endsWith("\0--resume=" + cliSession + "\0"),
                "started with --resume: " + command.replace('\0', ' '));
    }

    /** The worker {@code pid} was started to fork {@code cliSession}: {@code --resume=<id> --fork-session}. */
    static void assertStartedToFork(long pid, String cliSession) {
        String command = commandLine(pid);
        assertTrue(
                command.endsWith("\0--resume=" + cliSession + "\0--fork-session\0"),
                "started with --resume and --fork-session: " + command.replace('\0', ' '));
    }

    private static String commandLine(long pid) {
        try {
            return new String(
                    Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
