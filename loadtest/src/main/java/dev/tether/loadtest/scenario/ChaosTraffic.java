package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.client.VirtualUser;
import java.time.Duration;
import java.util.Random;

/**
 * The chaos scenario's messages: each with a text of its own, made of N equal parts that name
 * the message and the part ({@code k17.2:ghij...}), so that the worker's N deltas are exactly those
 * parts and a missing, repeated, swapped, corrupted or misrouted one is seen at once. The data is
 * {@code {"text", "deltas", "delay_ms"}} (the echo worker reads only the text and streams its
 * configured number of deltas; the audit's {@link TurnModel} knows which); a share of messages also
 * asks a demo-contract worker to crash after 0..N of its deltas. Called on the sender thread.
 */
final class ChaosTraffic implements Workload.Payload {

    private final int deltas;
    private final long delayMs;
    private final double kill;
    private final int payloadBytes;
    private final Random random;

    ChaosTraffic(TurnModel model, int requestedDeltas, Duration delay, double kill, int payloadBytes, long seed) {
        requireNonNull(model, "model");
        this.deltas = model.deltasFor(requestedDeltas);
        this.delayMs = delay.toMillis();
        this.kill = kill;
        this.payloadBytes = payloadBytes;
        this.random = new Random(seed ^ 0x5DEECE66DL);
    }

    @Override
    public JsonNode data(long k, VirtualUser user) {
        ObjectNode data = JsonNodeFactory.instance
                .objectNode()
                .put("text", text(k))
                .put("deltas", deltas)
                .put("delay_ms", delayMs);
        if (kill > 0 && random.nextDouble() < kill) {
            user.stats().count("worker_kills");
            data.put("crash", 3).put("crash_after_deltas", random.nextInt(deltas + 1));
        }
        return data;
    }

    /** Message {@code k}'s text: {@code deltas} parts of equal length, each starting with {@code k<k>.<part>:}. */
    String text(long k) {
        if (deltas == 0) {
            return "k" + k + ":";
        }
        int length = Math.max((payloadBytes + deltas - 1) / deltas, ("k" + k + "." + deltas + ":").length() + 2);
        StringBuilder text = new StringBuilder(length * deltas);
        for (int part = 0; part < deltas; part++) {
            int start = text.length();
            text.append('k').append(k).append('.').append(part).append(':');
            for (int i = 0; text.length() - start < length; i++) {
                text.append((char) ('a' + (int) ((k * 7L + part * 3L + i) % 26)));
            }
        }
        return text.toString();
    }
}
