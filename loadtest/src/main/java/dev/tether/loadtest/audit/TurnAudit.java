package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
    private enum Fate {
        ANSWERED,
        INTERRUPTED,
        CRASHED,
        REFUSED
    }

    /** A message whose turn is not over. */
    private static final class Turn {
        final ExpectedTurn expected;
        /** The highest seq seen when it was sent: none of its events can be at or below it. */
        final long floor;

        final List<String> got = new ArrayList<>();
        /** The seq of each delta in {@link #got}, to tell which replay_gap took the ones missing. */
        final List<Long> seqs = new ArrayList<>();
        /** Accepted as new (duplicate: false) once already: any later accepted must say duplicate. */
        boolean acceptedNew;
        /** The client resent it after its accepted: the next accepted must say duplicate. */
        boolean resentAfterAccept;
        /** A connection ended while it was open, so the gateway may have interrupted it. */
        boolean spannedReconnect;
        /** Counted among the messages a replay_gap hit. */
        boolean hitByGap;
        /** The replay_gaps announced while it was open: some of its events may be among their seqs. */
        final List<GapTracker.Gap> gaps = new ArrayList<>(0);

        Turn(ExpectedTurn expected, long floor) {
            this.expected = expected;
            this.floor = floor;
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

    /**
     * Message {@code id} with {@code data} went out on this session for the first time (a resend
     * changes nothing), when the highest seq seen was {@code floor}.
     */
    void sent(String id, JsonNode data, long floor) {
        if (open.containsKey(id) || done.containsKey(id)) {
            return;
        }
        Turn turn = new Turn(model.expect(data), floor);
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
                sink.violation(
                        ViolationKind.RESEND_NOT_DUPLICATE,
                        "message " + id + " accepted as new after its turn was over ("
                                + done.get(id).name().toLowerCase(Locale.ROOT) + "): it may run twice");
            }
            return;
        }
        if (turn.acceptedNew || turn.resentAfterAccept) {
            sink.violation(
                    ViolationKind.RESEND_NOT_DUPLICATE,
                    "message " + id + " accepted as new a second time: it may run twice");
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
            turn.gaps.add(gap);
        }
    }

    /** A worker event, delivered for the first time with {@code seq}. */
    void event(JsonNode event, long seq) {
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
                sink.violation(
                        ViolationKind.EVENT_UNEXPECTED,
                        type + " for message " + id + ", which this session never sent");
            } else if (type.equals("result") && (fate == Fate.ANSWERED || fate == Fate.INTERRUPTED)) {
                sink.violation(
                        ViolationKind.RESULT_DUPLICATED,
                        "message " + id + " answered twice: " + TurnShape.quote(event.toString()));
            } else {
                sink.violation(
                        ViolationKind.EVENT_UNEXPECTED,
                        type + " for message " + id + " after its turn was over ("
                                + fate.name().toLowerCase(Locale.ROOT) + "): " + TurnShape.quote(event.toString()));
            }
            return;
        }
        if (type.equals("delta")) {
            turn.got.add(event.path("text").asText(null));
            turn.seqs.add(seq);
            deltasChecked++;
            return;
        }
        open.remove(id);
        if (event.path("interrupted").asBoolean(false)) {
            done.put(id, Fate.INTERRUPTED);
            interrupted(id, turn, event, seq);
            return;
        }
        done.put(id, Fate.ANSWERED);
        answered++;
        if (!turn.expected.predictable()) {
            return;
        }
        if (turn.expected.crashes()) {
            sink.violation(
                    ViolationKind.RESULT_MISMATCH,
                    "message " + id + " asked its worker to crash after " + turn.expected.crashAfter()
                            + " deltas, but got a result");
            return;
        }
        TurnShape.Finding finding = TurnShape.complete(turn.expected.deltas(), turn.got, !turn.gaps.isEmpty());
        report(id, turn, finding, seq);
        String text = event.path("text").asText(null);
        if (!turn.expected.text().equals(text)) {
            sink.violation(
                    ViolationKind.RESULT_MISMATCH,
                    "message " + id + ": result text " + TurnShape.quote(text) + ", expected "
                            + TurnShape.quote(turn.expected.text()));
        }
    }

    private void interrupted(String id, Turn turn, JsonNode result, long seq) {
        interrupted++;
        if (!turn.spannedReconnect) {
            sink.violation(
                    ViolationKind.UNEXPECTED_INTERRUPT,
                    "message " + id + " ended interrupted though its client never"
                            + " interrupted it nor left while it ran");
        }
        if (!turn.expected.predictable()) {
            return;
        }
        report(id, turn, TurnShape.prefix(turn.expected.deltas(), turn.got, !turn.gaps.isEmpty()), seq);
        String text = result.path("text").asText(null);
        if (text != null && !turn.expected.text().equals(text)) {
            sink.violation(
                    ViolationKind.RESULT_MISMATCH,
                    "message " + id + ": interrupted result text " + TurnShape.quote(text) + ", expected "
                            + TurnShape.quote(turn.expected.text()));
        }
    }

    /** A {@code worker_crashed} notice (with {@code seq}) naming {@code id}: its turn is lost, by design. */
    void crashed(String id, long seq) {
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
                ? TurnShape.complete(e.deltas().subList(0, e.crashAfter()), turn.got, !turn.gaps.isEmpty())
                : TurnShape.prefix(e.deltas(), turn.got, !turn.gaps.isEmpty());
        if (finding.kind() == ViolationKind.RESULT_WITHOUT_DELTAS) {
            finding = new TurnShape.Finding(ViolationKind.DELTA_MISSING, "worker_crashed " + finding.detail());
        }
        report(id, turn, finding, seq);
    }

    /** A turn ended (its result, crash or interrupt at {@code endSeq}); a hole a gap explains names the gap. */
    private void report(String id, Turn turn, TurnShape.Finding finding, long endSeq) {
        if (!finding.ok()) {
            sink.violation(finding.kind(), "message " + id + ": " + finding.detail());
        } else if (finding.holeAt() >= 0 && !hitHole(id, turn, finding.holeAt(), endSeq)) {
            sink.violation(
                    ViolationKind.DELTA_MISSING,
                    "message " + id + ": "
                            + finding.detail()
                                    .replace("lost in a replay_gap", "missing where no replay_gap announced a loss"));
        }
    }

    /**
     * Turn {@code id} misses the deltas before the {@code at}-th one it got (or before its end at
     * {@code endSeq}): a gap between the seqs around the hole took them. A turn's events are
     * contiguous (one turn at a time), so a hole at its start is the latest gap before its first
     * event; one in the middle, the gaps between its neighbours. False when no gap lies there.
     */
    private boolean hitHole(String id, Turn turn, int at, long endSeq) {
        long next = at < turn.seqs.size() ? turn.seqs.get(at) : endSeq;
        GapTracker.Gap chosen = null;
        for (GapTracker.Gap gap : turn.gaps) {
            long after = at == 0 ? turn.floor : turn.seqs.get(at - 1);
            if (gap.to > after && gap.from < next) {
                if (at > 0) {
                    hit(id, turn, gap);
                }
                chosen = gap;
            }
        }
        if (chosen != null && at == 0) {
            hit(id, turn, chosen);
        }
        return chosen != null;
    }

    /**
     * Turn {@code id} never ended: the first gap after its last event (or after it was sent) took
     * the rest, and any hole before that is a gap's too. False when no gap comes after it.
     */
    private boolean lostInGaps(String id, Turn turn) {
        TurnShape.Finding hole = TurnShape.prefix(turn.expected.deltas(), turn.got, true);
        if (hole.holeAt() >= 0 && hole.holeAt() < turn.seqs.size()) {
            hitHole(id, turn, hole.holeAt(), Long.MAX_VALUE);
        }
        long last = turn.seqs.isEmpty() ? turn.floor : turn.seqs.get(turn.seqs.size() - 1);
        for (GapTracker.Gap gap : turn.gaps) {
            if (gap.to > last) {
                hit(id, turn, gap);
                return true;
            }
        }
        return false;
    }

    private void hit(String id, Turn turn, GapTracker.Gap gap) {
        gap.hit(id);
        if (!turn.hitByGap) {
            turn.hitByGap = true;
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
     * The session is over for this client. Open turns are unanswered, unless a replay_gap took
     * their ends, or the session expired (their answers went with it, by design).
     */
    void finish(boolean sessionExpired) {
        List<String> unanswered = new ArrayList<>();
        for (Map.Entry<String, Turn> e : open.entrySet()) {
            if (lostInGaps(e.getKey(), e.getValue())) {
                continue;
            }
            if (sessionExpired) {
                expired++;
            } else {
                Turn t = e.getValue();
                // What the client knows of it, to tell a message the gateway lost from one it never got.
                unanswered.add(e.getKey() + " (sent after seq " + t.floor + ", "
                        + (t.acceptedNew ? "accepted" : "never accepted") + ", " + t.got.size() + " of "
                        + t.expected.deltas().size() + " deltas)");
            }
        }
        open.clear();
        if (!unanswered.isEmpty()) {
            sink.violation(
                    ViolationKind.UNANSWERED,
                    unanswered.size() + " message(s) without result: "
                            + String.join(", ", unanswered.subList(0, Math.min(10, unanswered.size())))
                            + (unanswered.size() > 10 ? ", ..." : ""));
        }
    }

    long sent() {
        return sent;
    }

    long answered() {
        return answered;
    }

    long deltasChecked() {
        return deltasChecked;
    }

    long unpredictable() {
        return unpredictable;
    }

    long crashed() {
        return crashed;
    }

    long interrupted() {
        return interrupted;
    }

    long refused() {
        return refused;
    }

    long duplicatesAcknowledged() {
        return duplicatesAcknowledged;
    }

    long gapHit() {
        return gapHit;
    }

    long expired() {
        return expired;
    }
}
