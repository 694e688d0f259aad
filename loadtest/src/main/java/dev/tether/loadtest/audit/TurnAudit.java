package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The turns of one session: for every message id sent, the stream its worker must answer with
 * ({@link TurnModel}), checked delta by delta and at its result; and what finally became of it (a
 * result, a worker crash naming it, a refusal, the end of its session). Events reach it once per
 * seq, in the order the client first saw them. Not thread-safe: owned by one {@link SessionAudit}.
 */
final class TurnAudit {

    /** Where violations go. */
    interface Sink {
        void violation(ViolationKind kind, String detail);
    }

    /** What finally became of a message. */
    private enum Fate { ANSWERED, INTERRUPTED, CRASHED, REFUSED }

    /** A message whose turn is not over. */
    private static final class Turn {
        final ExpectedTurn expected;
        final List<String> got = new ArrayList<>();
        /** Accepted as new (duplicate: false) once already: any later accepted must say duplicate. */
        boolean acceptedNew;
        /** The client resent it after its accepted: the next accepted must say duplicate. */
        boolean resentAfterAccept;
        /** A connection ended while it was open, so the gateway may have interrupted it. */
        boolean spannedReconnect;
        /** The first replay_gap announced while it was open: some of its events may be among the lost. */
        GapTracker.Gap gap;

        Turn(ExpectedTurn expected) {
            this.expected = expected;
        }
    }

    private final TurnModel model;
    private final Sink sink;
    private final Map<String, Turn> open = new LinkedHashMap<>();
    private final Map<String, Fate> done = new HashMap<>();
    private long sent;
    private long answered;
    private long deltasChecked;
    private long unpredictable;
    private long crashed;
    private long interrupted;
    private long refused;
    private long duplicatesAcknowledged;
    private long gapHit;
    private long expired;

    TurnAudit(TurnModel model, Sink sink) {
        this.model = requireNonNull(model, "model");
        this.sink = requireNonNull(sink, "sink");
    }

    /** Message {@code id} with {@code data} went out on this session for the first time (a resend changes nothing). */
    void sent(String id, JsonNode data) {
        if (open.containsKey(id) || done.containsKey(id)) {
            return;
        }
        Turn turn = new Turn(model.expect(data));
        if (!turn.expected.predictable()) {
            unpredictable++;
        }
        open.put(id, turn);
        sent++;
    }

    /** The client sends {@code id} again after its {@code accepted} came: the gateway must say duplicate. */
    void resentAfterAccept(String id) {
        Turn turn = open.get(id);
        if (turn != null) {
            turn.resentAfterAccept = true;
        }
    }

    /** {@code accepted} for {@code id}. */
    void accepted(String id, boolean duplicate) {
        Turn turn = open.get(id);
        if (duplicate) {
            duplicatesAcknowledged++;
            if (turn != null) {
                turn.resentAfterAccept = false;
            }
            return;
        }
        if (turn == null) {
            if (done.containsKey(id)) {
                sink.violation(ViolationKind.RESEND_NOT_DUPLICATE, "message " + id + " accepted as new after its turn was over ("
                        + done.get(id).name().toLowerCase() + "): it may run twice");
            }
            return;
        }
        if (turn.acceptedNew || turn.resentAfterAccept) {
            sink.violation(ViolationKind.RESEND_NOT_DUPLICATE, "message " + id + " accepted as new a second time: it may run twice");
        }
        turn.acceptedNew = true;
        turn.resentAfterAccept = false;
    }

    /** An {@code error} naming {@code id} refused it: it never reached the worker. */
    void refused(String id) {
        if (open.remove(id) != null) {
            done.put(id, Fate.REFUSED);
            refused++;
        }
    }

    /** A connection of the session ended: the gateway may interrupt turns that are open now. */
    void reconnected() {
        for (Turn turn : open.values()) {
            turn.spannedReconnect = true;
        }
    }

    /** A replay_gap was announced: every open turn may have lost events in it. */
    void gap(GapTracker.Gap gap) {
        for (Turn turn : open.values()) {
            if (turn.gap == null) {
                turn.gap = gap;
            }
        }
    }

    /** A worker event, delivered for the first time. */
    void event(JsonNode event) {
        JsonNode idNode = event.get("id");
        String type = event.path("type").asText();
        if (idNode == null || !idNode.isTextual() || !(type.equals("delta") || type.equals("result"))) {
            return;
        }
        String id = idNode.textValue();
        Turn turn = open.get(id);
        if (turn == null) {
            Fate fate = done.get(id);
            if (fate == null) {
                sink.violation(ViolationKind.EVENT_UNEXPECTED, type + " for message " + id + ", which this session never sent");
            } else if (type.equals("result") && (fate == Fate.ANSWERED || fate == Fate.INTERRUPTED)) {
                sink.violation(ViolationKind.RESULT_DUPLICATED, "message " + id + " answered twice: " + TurnShape.quote(event.toString()));
            } else {
                sink.violation(ViolationKind.EVENT_UNEXPECTED, type + " for message " + id + " after its turn was over ("
                        + fate.name().toLowerCase() + "): " + TurnShape.quote(event.toString()));
            }
            return;
        }
        if (type.equals("delta")) {
            turn.got.add(event.path("text").asText(null));
            deltasChecked++;
            return;
        }
        open.remove(id);
        if (event.path("interrupted").asBoolean(false)) {
            done.put(id, Fate.INTERRUPTED);
            interrupted(id, turn, event);
            return;
        }
        done.put(id, Fate.ANSWERED);
        answered++;
        if (!turn.expected.predictable()) {
            return;
        }
        if (turn.expected.crashes()) {
            sink.violation(ViolationKind.RESULT_MISMATCH, "message " + id + " asked its worker to crash after "
                    + turn.expected.crashAfter() + " deltas, but got a result");
            return;
        }
        TurnShape.Finding finding = TurnShape.complete(turn.expected.deltas(), turn.got, turn.gap != null);
        report(id, turn, finding);
        String text = event.path("text").asText(null);
        if (!turn.expected.text().equals(text)) {
            sink.violation(ViolationKind.RESULT_MISMATCH, "message " + id + ": result text " + TurnShape.quote(text)
                    + ", expected " + TurnShape.quote(turn.expected.text()));
        }
    }

    private void interrupted(String id, Turn turn, JsonNode result) {
        interrupted++;
        if (!turn.spannedReconnect) {
            sink.violation(ViolationKind.UNEXPECTED_INTERRUPT, "message " + id + " ended interrupted though its client never"
                    + " interrupted it nor left while it ran");
        }
        if (!turn.expected.predictable()) {
            return;
        }
        report(id, turn, TurnShape.prefix(turn.expected.deltas(), turn.got, turn.gap != null));
        String text = result.path("text").asText(null);
        if (text != null && !turn.expected.text().equals(text)) {
            sink.violation(ViolationKind.RESULT_MISMATCH, "message " + id + ": interrupted result text " + TurnShape.quote(text)
                    + ", expected " + TurnShape.quote(turn.expected.text()));
        }
    }

    /** A {@code worker_crashed} notice naming {@code id}: its turn is lost, by design. */
    void crashed(String id) {
        Turn turn = open.remove(id);
        if (turn == null) {
            return;
        }
        done.put(id, Fate.CRASHED);
        crashed++;
        if (!turn.expected.predictable()) {
            return;
        }
        ExpectedTurn e = turn.expected;
        TurnShape.Finding finding = e.crashes()
                ? TurnShape.complete(e.deltas().subList(0, e.crashAfter()), turn.got, turn.gap != null)
                : TurnShape.prefix(e.deltas(), turn.got, turn.gap != null);
        if (finding.kind() == ViolationKind.RESULT_WITHOUT_DELTAS) {
            finding = new TurnShape.Finding(ViolationKind.DELTA_MISSING, "worker_crashed " + finding.detail());
        }
        report(id, turn, finding);
    }

    private void report(String id, Turn turn, TurnShape.Finding finding) {
        if (!finding.ok()) {
            sink.violation(finding.kind(), "message " + id + ": " + finding.detail());
        } else if (finding.detail() != null && turn.gap != null) {
            turn.gap.hit(id);
            gapHit++;
        }
    }

    /** Whether {@code id} has its answer (or other fate). */
    boolean over(String id) {
        return done.containsKey(id);
    }

    /** Ids still waiting for their answer. */
    List<String> open() {
        return List.copyOf(open.keySet());
    }

    /**
     * The session is over for this client. Open turns are unanswered, unless the session expired
     * (their answers went with it, by design) or a replay_gap may have taken them.
     */
    void finish(boolean sessionExpired) {
        List<String> unanswered = new ArrayList<>();
        for (Map.Entry<String, Turn> e : open.entrySet()) {
            if (sessionExpired) {
                expired++;
            } else if (e.getValue().gap != null) {
                e.getValue().gap.hit(e.getKey());
                gapHit++;
            } else {
                unanswered.add(e.getKey());
            }
        }
        open.clear();
        if (!unanswered.isEmpty()) {
            sink.violation(ViolationKind.UNANSWERED, unanswered.size() + " message(s) without result: "
                    + String.join(", ", unanswered.subList(0, Math.min(10, unanswered.size())))
                    + (unanswered.size() > 10 ? ", ..." : ""));
        }
    }

    long sent() { return sent; }
    long answered() { return answered; }
    long deltasChecked() { return deltasChecked; }
    long unpredictable() { return unpredictable; }
    long crashed() { return crashed; }
    long interrupted() { return interrupted; }
    long refused() { return refused; }
    long duplicatesAcknowledged() { return duplicatesAcknowledged; }
    long gapHit() { return gapHit; }
    long expired() { return expired; }
}
