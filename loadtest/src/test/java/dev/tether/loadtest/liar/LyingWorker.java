package dev.tether.loadtest.liar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.EchoText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker made to lie, for a real gateway to run as {@code worker.process.command}: it speaks the
 * worker protocol and answers like the demo worker (the text in {@code data.deltas} parts, a
 * {@code delay_ms} pause after each, then the result), except on every fifth turn (the 2nd, 7th,
 * 12th ...), where it tells the lie its session's subject names ({@code liar-<lie>-<n>}):
 * {@code drop} leaves out the second delta (an event lost before the gateway numbers it),
 * {@code corrupt} answers with another result text, {@code duplicate} sends the first delta twice,
 * {@code reorder} swaps the first two deltas; {@code honest} never lies.
 *
 * <p>One thread: it reads a line, answers it, reads the next. Interrupts are ignored (nobody
 * interrupts in the tests); {@code shutdown} and the end of input end it.
 */
public final class LyingWorker {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    private String lie = "honest";
    private int turns;

    public static void main(String[] args) throws IOException {
        new LyingWorker().run();
    }

    private void run() throws IOException {
        emit(JSON.createObjectNode().put("type", "ready"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode input = JSON.readTree(line);
            switch (input.path("type").asText()) {
                case "session" -> lie = lieOf(input.path("subject").asText(""));
                case "message" -> turn(input.path("id").asText(), input.path("data"));
                case "shutdown" -> {
                    return;
                }
                default -> {}
            }
        }
    }

    /** {@code liar-drop-3} lies {@code drop}; any other subject is honest. */
    static String lieOf(String subject) {
        String[] parts = subject.split("-", -1);
        return parts.length >= 3 && parts[0].equals("liar") ? parts[1] : "honest";
    }

    private void turn(String id, JsonNode data) {
        String text = EchoText.of(data);
        List<String> deltas = new ArrayList<>(
                EchoText.split(text, Math.max(0, data.path("deltas").asInt(3))));
        long delayNanos = Math.max(0, data.path("delay_ms").asLong(20)) * 1_000_000;
        String result = text;
        if (++turns % 5 == 2 && deltas.size() >= 2) {
            switch (lie) {
                case "drop" -> deltas.remove(1);
                case "corrupt" -> result = text + "!";
                case "duplicate" -> deltas.add(1, deltas.get(0));
                case "reorder" -> Collections.swap(deltas, 0, 1);
                default -> {}
            }
        }
        for (String delta : deltas) {
            emit(JSON.createObjectNode().put("type", "delta").put("id", id).put("text", delta));
            LockSupport.parkNanos(delayNanos); // the demo worker's pause between deltas, so turns take time
        }
        emit(JSON.createObjectNode().put("type", "result").put("id", id).put("text", result));
    }

    private void emit(ObjectNode line) {
        out.println(line);
        out.flush();
    }
}
