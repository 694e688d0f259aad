package dev.tether.loadtest.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.EchoText;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the worker behind a gateway answers a message, so that the audit can predict every turn
 * ({@link ExpectedTurn}). Two workers ship with Tether and echo the same way ({@link EchoText}, whose
 * code they run too): the text (data itself when a string, else {@code data.text}, else data as JSON)
 * in N parts of {@code ceil(length / N)} characters, the last ones shorter or empty, each sent as
 * {@code {"type":"delta","id":..,"text":..}}, then {@code {"type":"result","id":..,"text":<the whole text>}}:
 * <ul>
 *   <li>{@link #echo(int)}, the in-process echo worker ({@code worker.kind: echo}): N is
 *       {@code worker.echo.deltas} of the gateway's config, whatever the message says;</li>
 *   <li>{@link #demo()}, the demo worker and any process worker that follows its contract
 *       (docs/workers.md): N is {@code data.deltas} (default 3); {@code data.crash} makes it exit
 *       after {@code data.crash_after_deltas} deltas (default 0).</li>
 * </ul>
 * Immutable.
 *
 * @param name        {@code echo} or {@code demo}, for reports
 * @param fixedDeltas the echo worker's N; 0 for the demo contract
 */
public record TurnModel(String name, int fixedDeltas) {

    /** Fields of a demo message whose effect the demo contract predicts; any other asks for something it cannot. */
    private static final Set<String> DEMO_FIELDS = Set.of("text", "deltas", "delay_ms", "crash", "crash_after_deltas");

    private static final int DEMO_DEFAULT_DELTAS = 3;

    public TurnModel {
        if (!name.equals("echo") && !name.equals("demo")) {
            throw new IllegalArgumentException("turn model: " + name + " (expected: echo or demo)");
        }
        if (fixedDeltas < 0) {
            throw new IllegalArgumentException("echo deltas: " + fixedDeltas + " (expected: >= 0)");
        }
    }

    /**
     * The in-process echo worker with {@code worker.echo.deltas} = {@code deltas}; also the raw
     * baseline server, which streams the same way ({@code 0}: a result alone).
     */
    public static TurnModel echo(int deltas) {
        return new TurnModel("echo", deltas);
    }

    /** The demo worker's contract (and that of process workers that follow it). */
    public static TurnModel demo() {
        return new TurnModel("demo", 0);
    }

    /** How many deltas a message asking for {@code requested} gets from this worker. */
    public int deltasFor(int requested) {
        return name.equals("echo") ? fixedDeltas : requested;
    }

    /** The turn a message with {@code data} must produce. */
    public ExpectedTurn expect(JsonNode data) {
        String text = EchoText.of(data);
        if (name.equals("echo")) {
            return new ExpectedTurn(EchoText.split(text, fixedDeltas), text, -1, true);
        }
        int n = Math.max(0, data.path("deltas").asInt(DEMO_DEFAULT_DELTAS));
        List<String> parts = EchoText.split(text, n);
        int crashAfter = data.has("crash")
                ? Math.min(
                        parts.size(),
                        Math.max(0, data.path("crash_after_deltas").asInt(0)))
                : -1;
        boolean predictable = true;
        if (data.isObject()) {
            for (var names = data.fieldNames(); names.hasNext(); ) {
                predictable &= DEMO_FIELDS.contains(names.next());
            }
        }
        return new ExpectedTurn(parts, text, crashAfter, predictable);
    }

    @Override
    public String toString() {
        return name.equals("echo") ? String.format(Locale.ROOT, "echo (%d deltas)", fixedDeltas) : "demo (data.deltas)";
    }
}
