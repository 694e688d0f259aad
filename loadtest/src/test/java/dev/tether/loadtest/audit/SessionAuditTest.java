package dev.tether.loadtest.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every violation the audit names, each from the smallest stream that shows it, and the honest
 * streams (resumes, rewinds, gaps when allowed, crashes, expiries) that must pass.
 */
class SessionAuditTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** Messages ask for 3 deltas (the demo contract); "abcdefghi" splits into "abc", "def", "ghi". */
    private static final JsonNode ABC =
            JSON.objectNode().put("text", "abcdefghi").put("deltas", 3);

    private SessionAudit audit;
    private ConnectionAudit first;

    @BeforeEach
    void newSession() {
        newSession(false);
    }

    private void newSession(boolean allowGaps) {
        audit = new SessionAudit(TurnModel.demo(), allowGaps);
        first = audit.connect(false, 0);
        audit.ready(first, ready(false, 0), null);
    }

    private static ServerMessage.SessionReady ready(boolean resumed, long lastSeq) {
        return new ServerMessage.SessionReady("s1", resumed, lastSeq, 0, SessionState.IDLE);
    }

    private static ServerMessage.Event delta(long seq, String id, String text) {
        return new ServerMessage.Event(
                seq, JSON.objectNode().put("type", "delta").put("id", id).put("text", text));
    }

    private static ServerMessage.Event result(long seq, String id, String text) {
        return new ServerMessage.Event(
                seq, JSON.objectNode().put("type", "result").put("id", id).put("text", text));
    }

    private static ServerMessage.Status status(long seq, SessionState state) {
        return new ServerMessage.Status(seq, state, null);
    }

    /** Message {@code id}'s honest turn from {@code seq}: processing, 3 deltas, result, idle (6 seqs). */
    private static List<ServerMessage.Sequenced> turn(long seq, String id) {
        return List.of(
                status(seq, SessionState.PROCESSING),
                delta(seq + 1, id, "abc"),
                delta(seq + 2, id, "def"),
                delta(seq + 3, id, "ghi"),
                result(seq + 4, id, "abcdefghi"),
                status(seq + 5, SessionState.IDLE));
    }

    private void deliver(ConnectionAudit c, List<? extends ServerMessage.Sequenced> messages) {
        for (ServerMessage.Sequenced m : messages) {
            audit.sequenced(c, m);
        }
    }

    private List<String> kinds() {
        return audit.violations().stream().map(Violation::kind).distinct().toList();
    }

    /** The first connection ends; a resume with {@code lastSeq} is answered with the server's newest {@code serverNewest}. */
    private ConnectionAudit resume(long lastSeq, long serverNewest) {
        audit.ended(first);
        ConnectionAudit c = audit.connect(true, lastSeq);
        audit.ready(c, ready(true, serverNewest), "s1");
        return c;
    }

    @Test
    void anHonestTurnPassesAndIsCounted() {
        audit.sent("m1", ABC);
        deliver(first, turn(1, "m1"));
        audit.pong(first);
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(6, audit.events());
        assertEquals(1, audit.answeredTurns());
        assertEquals(3, audit.deltasChecked());
        assertEquals(6, audit.lastProcessed());
    }

    @Test
    void aResumeThatReplaysWhatCrossedTheCutPassesAndCountsIt() {
        audit.sent("m1", ABC);
        List<ServerMessage.Sequenced> turn = turn(1, "m1");
        deliver(first, turn.subList(0, 2));
        ConnectionAudit again = resume(2, 6);
        assertEquals(SessionAudit.Arrival.NEW_REPLAYED, audit.sequenced(again, turn.get(2)));
        deliver(again, turn.subList(3, 6));
        audit.pong(again);
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(4, audit.replayedNew());
        assertEquals(1, audit.resumesReplayingNew());
        assertTrue(again.caughtUp());
    }

    @Test
    void aResumeBelowWhatWasProcessedComparesTheReplayWithTheFirstDelivery() {
        audit.sent("m1", ABC);
        List<ServerMessage.Sequenced> turn = turn(1, "m1");
        deliver(first, turn.subList(0, 4));
        ConnectionAudit again = resume(1, 6);
        assertEquals(SessionAudit.Arrival.SEEN, audit.sequenced(again, turn.get(1)));
        deliver(again, turn.subList(2, 6));
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(3, audit.replayedSeen());
        assertEquals(2, audit.replayedNew());
    }

    @Test
    void aReplayWithOtherContentIsAMismatch() {
        audit.sent("m1", ABC);
        deliver(first, turn(1, "m1").subList(0, 3));
        ConnectionAudit again = resume(1, 3);
        audit.sequenced(again, delta(2, "m1", "abX"));
        assertEquals(List.of(ViolationKind.REPLAY_MISMATCH.wire()), kinds());
    }

    @Test
    void contentIsComparedAsJsonNotAsText() {
        ObjectNode reordered =
                JSON.objectNode().put("text", "abc").put("id", "m1").put("type", "delta");
        audit.sent("m1", ABC);
        deliver(first, turn(1, "m1").subList(0, 2));
        ConnectionAudit again = resume(1, 2);
        assertEquals(SessionAudit.Arrival.SEEN, audit.sequenced(again, new ServerMessage.Event(2, reordered)));
        assertEquals(List.of(), audit.violations());
    }

    @Test
    void aSkippedSeqIsAGap() {
        audit.sequenced(first, status(1, SessionState.PROCESSING));
        audit.sequenced(first, status(3, SessionState.IDLE));
        assertEquals(List.of(ViolationKind.SEQ_GAP.wire()), kinds());
        assertTrue(
                audit.violations().get(0).detail().contains("expected seq 2, got 3"),
                audit.violations().toString());
    }

    @Test
    void theSameSeqTwiceOnAConnectionIsRepeated() {
        audit.sequenced(first, status(1, SessionState.PROCESSING));
        audit.sequenced(first, status(1, SessionState.PROCESSING));
        assertEquals(List.of(ViolationKind.SEQ_REPEATED.wire()), kinds());
    }

    @Test
    void twoSeqsSwappedAreOutOfOrder() {
        audit.sequenced(first, status(1, SessionState.PROCESSING));
        audit.sequenced(first, status(3, SessionState.IDLE));
        audit.sequenced(first, status(2, SessionState.PROCESSING));
        assertTrue(kinds().contains(ViolationKind.SEQ_OUT_OF_ORDER.wire()), kinds().toString());
    }

    @Test
    void aReplayFromBelowLastSeqIgnoredIt() {
        deliver(first, List.of(status(1, SessionState.PROCESSING), status(2, SessionState.IDLE)));
        ConnectionAudit again = resume(2, 2);
        audit.sequenced(again, status(1, SessionState.PROCESSING));
        audit.sequenced(again, status(2, SessionState.IDLE));
        assertEquals(List.of(ViolationKind.IGNORED_LAST_SEQ.wire()), kinds());
    }

    @Test
    void aPongBeforeTheEndOfTheReplayIsAShortTail() {
        deliver(first, List.of(status(1, SessionState.PROCESSING)));
        ConnectionAudit again = resume(1, 3);
        audit.sequenced(again, status(2, SessionState.IDLE));
        audit.pong(again);
        assertEquals(List.of(ViolationKind.SHORT_TAIL.wire()), kinds());
        assertTrue(
                audit.violations().get(0).detail().contains("seqs 3..3"),
                audit.violations().toString());
    }

    @Test
    void aReplayWhoseLastSeqIsSkippedForLiveOutputIsAShortTail() {
        deliver(first, List.of(status(1, SessionState.PROCESSING)));
        ConnectionAudit again = resume(1, 3);
        audit.sequenced(again, status(2, SessionState.IDLE));
        audit.sequenced(again, status(4, SessionState.IDLE));
        assertEquals(List.of(ViolationKind.SHORT_TAIL.wire()), kinds());
    }

    @Test
    void aNewestSeqBelowOneDeliveredIsAReusedSeq() {
        deliver(first, List.of(status(1, SessionState.PROCESSING), status(2, SessionState.IDLE)));
        resume(2, 1);
        assertEquals(List.of(ViolationKind.SEQ_REUSED.wire()), kinds());
    }

    @Test
    void aRacingConnectionsOlderNewestSeqReadAfterTheWinnersLiveOutputIsNoReuse() {
        ConnectionAudit loser = audit.connect(true, 0);
        ConnectionAudit winner = audit.connect(true, 0);
        audit.ready(winner, ready(true, 0), "s1");
        audit.sequenced(winner, status(1, SessionState.PROCESSING));
        audit.ready(loser, ready(true, 0), "s1");
        assertEquals(List.of(), audit.violations());
    }

    @Test
    void aResumeAnsweredWithAnotherSessionOrNotResumedIsCaught() {
        audit.ended(first);
        ConnectionAudit again = audit.connect(true, 0);
        audit.ready(again, new ServerMessage.SessionReady("s2", false, 0, 0, SessionState.IDLE), "s1");
        assertEquals(List.of(ViolationKind.SESSION_CHANGED.wire(), ViolationKind.NOT_RESUMED.wire()), kinds());
    }

    @Test
    void aReplayGapFailsTheRunUnlessGapsAreAllowedAndThenNamesTheMessagesHit() {
        for (boolean allowed : new boolean[] {false, true}) {
            newSession(allowed);
            audit.sent("m1", ABC);
            List<ServerMessage.Sequenced> turn = turn(1, "m1");
            deliver(first, turn.subList(0, 2));
            ConnectionAudit again = resume(2, 6);
            audit.replayGap(again, 3, 4);
            deliver(again, turn.subList(4, 6));
            audit.finish(false);
            assertEquals(allowed ? List.of() : List.of(ViolationKind.REPLAY_GAP.wire()), kinds());
            assertEquals(2, audit.lost());
            assertEquals(List.of(new LostRange("s1", 3, 4, 2, List.of("m1"))), audit.lostRanges());
            assertEquals(6, audit.lastProcessed());
        }
    }

    @Test
    void eachGapNamesOnlyTheMessagesWhoseEventsItTook() {
        newSession(true);
        audit.sent("m1", ABC);
        List<ServerMessage.Sequenced> one = turn(1, "m1");
        List<ServerMessage.Sequenced> two = turn(7, "m2");
        deliver(first, one.subList(0, 2));
        ConnectionAudit again = resume(2, 4);
        audit.replayGap(again, 3, 3);
        deliver(again, one.subList(3, 4));
        audit.sent("m2", ABC); // after seq 4: none of its events can be at or below it
        audit.ended(again);
        ConnectionAudit third = audit.connect(true, 4);
        audit.ready(third, ready(true, 12), "s1");
        audit.replayGap(third, 5, 9);
        deliver(third, two.subList(3, 6));
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(
                List.of(new LostRange("s1", 3, 3, 1, List.of("m1")), new LostRange("s1", 5, 9, 5, List.of("m1", "m2"))),
                audit.lostRanges());
    }

    @Test
    void aHoleNoGapExplainsIsStillMissing() {
        newSession(true);
        audit.sent("m1", ABC);
        deliver(first, List.of(delta(1, "m1", "abc")));
        ConnectionAudit again = resume(1, 3);
        audit.replayGap(again, 2, 2);
        audit.sequenced(again, delta(3, "m1", "ghi"));
        audit.sequenced(again, result(4, "m1", "abcdefghi"));
        assertEquals(List.of(), audit.violations(), "the gap at seq 2 explains the missing delta");

        newSession(true);
        audit.sent("m1", ABC);
        audit.sent("m2", ABC);
        deliver(first, List.of(delta(1, "m1", "abc"), delta(2, "m2", "abc")));
        again = resume(2, 5);
        audit.replayGap(again, 3, 3);
        audit.sequenced(again, delta(4, "m1", "ghi"));
        audit.sequenced(again, result(5, "m1", "abcdefghi"));
        assertEquals(List.of(), audit.violations(), "seq 3 (lost) may have been m1's second delta");
    }

    @Test
    void aGapOverSeqsAlreadySeenCostsNothing() {
        deliver(first, List.of(status(1, SessionState.PROCESSING), status(2, SessionState.IDLE)));
        ConnectionAudit again = resume(0, 2);
        audit.replayGap(again, 1, 2);
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(0, audit.lost());
        assertEquals(1, audit.gapsOnlySeen());
    }

    @Test
    void aGapThatDoesNotStartAfterLastSeqIsBad() {
        deliver(first, List.of(status(1, SessionState.PROCESSING)));
        ConnectionAudit again = resume(1, 5);
        audit.replayGap(again, 3, 4);
        assertEquals(List.of(ViolationKind.BAD_REPLAY_GAP.wire()), kinds());
    }

    @Test
    void twoConnectionsGettingTheSameLiveSeqAreTwoOwners() {
        ConnectionAudit a = audit.connect(true, 0);
        ConnectionAudit b = audit.connect(true, 0);
        audit.ready(a, ready(true, 0), "s1");
        audit.ready(b, ready(true, 0), "s1");
        audit.sequenced(a, status(1, SessionState.PROCESSING));
        audit.sequenced(b, status(1, SessionState.PROCESSING));
        assertEquals(List.of(ViolationKind.TWO_OWNERS.wire()), kinds());
    }

    @Test
    void aDroppedDeltaIsMissing() {
        audit.sent("m1", ABC);
        deliver(first, List.of(delta(1, "m1", "abc"), delta(2, "m1", "ghi"), result(3, "m1", "abcdefghi")));
        assertEquals(List.of(ViolationKind.DELTA_MISSING.wire()), kinds());
    }

    @Test
    void aResultBeforeTheLastDeltaHasNotAllItsDeltas() {
        audit.sent("m1", ABC);
        deliver(first, List.of(delta(1, "m1", "abc"), delta(2, "m1", "def"), result(3, "m1", "abcdefghi")));
        assertEquals(List.of(ViolationKind.RESULT_WITHOUT_DELTAS.wire()), kinds());
    }

    @Test
    void aDeltaTwiceIsDuplicated() {
        audit.sent("m1", ABC);
        deliver(
                first,
                List.of(
                        delta(1, "m1", "abc"),
                        delta(2, "m1", "abc"),
                        delta(3, "m1", "def"),
                        delta(4, "m1", "ghi"),
                        result(5, "m1", "abcdefghi")));
        assertEquals(List.of(ViolationKind.DELTA_DUPLICATED.wire()), kinds());
    }

    @Test
    void twoDeltasSwappedAreReordered() {
        audit.sent("m1", ABC);
        deliver(
                first,
                List.of(
                        delta(1, "m1", "def"),
                        delta(2, "m1", "abc"),
                        delta(3, "m1", "ghi"),
                        result(4, "m1", "abcdefghi")));
        assertEquals(List.of(ViolationKind.DELTA_REORDERED.wire()), kinds());
    }

    @Test
    void aDeltaWithOtherTextIsCorrupt() {
        audit.sent("m1", ABC);
        deliver(
                first,
                List.of(
                        delta(1, "m1", "abc"),
                        delta(2, "m1", "dXf"),
                        delta(3, "m1", "ghi"),
                        result(4, "m1", "abcdefghi")));
        assertEquals(List.of(ViolationKind.DELTA_CORRUPT.wire()), kinds());
    }

    @Test
    void aResultWithOtherTextIsAMismatch() {
        audit.sent("m1", ABC);
        deliver(
                first,
                List.of(
                        delta(1, "m1", "abc"),
                        delta(2, "m1", "def"),
                        delta(3, "m1", "ghi"),
                        result(4, "m1", "abcdefghX")));
        assertEquals(List.of(ViolationKind.RESULT_MISMATCH.wire()), kinds());
    }

    @Test
    void aSecondResultIsDuplicatedAndAnUnknownIdUnexpected() {
        audit.sent("m1", JSON.objectNode().put("text", "").put("deltas", 0));
        deliver(first, List.of(result(1, "m1", ""), result(2, "m1", ""), result(3, "m9", "")));
        assertEquals(List.of(ViolationKind.RESULT_DUPLICATED.wire(), ViolationKind.EVENT_UNEXPECTED.wire()), kinds());
    }

    @Test
    void anInterruptedResultIsExpectedOnlyWhenItsClientWasAway() {
        audit.sent("m1", ABC);
        audit.sent("m2", ABC);
        ServerMessage.Event interrupted = new ServerMessage.Event(
                2, JSON.objectNode().put("type", "result").put("id", "m1").put("interrupted", true));
        deliver(first, List.of(delta(1, "m1", "abc"), interrupted));
        assertEquals(List.of(ViolationKind.UNEXPECTED_INTERRUPT.wire()), kinds());
        ConnectionAudit again = resume(2, 3);
        audit.sequenced(
                again,
                new ServerMessage.Event(
                        3,
                        JSON.objectNode().put("type", "result").put("id", "m2").put("interrupted", true)));
        assertEquals(1, audit.violationCount(), "m2's client had left while it ran");
        assertEquals(2, audit.interruptedTurns());
    }

    @Test
    void aResendAcceptedAsNewAgainWouldRunTwice() {
        audit.sent("m1", ABC);
        audit.accepted("m1", false);
        audit.resentAfterAccept("m1");
        audit.accepted("m1", true);
        assertEquals(List.of(), audit.violations());
        audit.resentAfterAccept("m1");
        audit.accepted("m1", false);
        assertEquals(List.of(ViolationKind.RESEND_NOT_DUPLICATE.wire()), kinds());
        assertEquals(1, audit.duplicatesAcknowledged());
    }

    @Test
    void aWorkerCrashAccountsForItsTurnWithTheDeltasAskedFor() {
        audit.sent(
                "m1",
                JSON.objectNode()
                        .put("text", "abcdefghi")
                        .put("deltas", 3)
                        .put("crash", 3)
                        .put("crash_after_deltas", 2));
        audit.sent("m2", ABC);
        ObjectNode details = JSON.objectNode().put("turn_id", "m1");
        deliver(
                first,
                List.of(
                        delta(1, "m1", "abc"),
                        delta(2, "m1", "def"),
                        new ServerMessage.Notice(3, "worker_crashed", "gone", details)));
        deliver(first, turn(4, "m2"));
        audit.finish(false);
        assertEquals(List.of(), audit.violations());
        assertEquals(1, audit.crashedTurns());
        assertTrue(audit.answered("m1"));
    }

    @Test
    void anUnansweredMessageIsReportedUnlessItsSessionExpired() {
        audit.sent("m1", ABC);
        audit.finish(false);
        assertEquals(List.of(ViolationKind.UNANSWERED.wire()), kinds());

        newSession(false);
        audit.sent("m1", ABC);
        audit.finish(true);
        assertEquals(List.of(), audit.violations());
        assertEquals(1, audit.expiredMessages());
        assertTrue(audit.expired());
    }

    @Test
    void theSummaryAddsUpSessionsAndFailsOnAnyViolation() {
        StreamAudit user = new StreamAudit(TurnModel.demo(), false);
        SessionAudit good = user.newSession();
        ConnectionAudit c = good.connect(false, 0);
        good.ready(c, ready(false, 0), null);
        good.sequenced(c, status(1, SessionState.IDLE));
        SessionAudit bad = user.newSession();
        ConnectionAudit d = bad.connect(false, 0);
        bad.ready(d, new ServerMessage.SessionReady("s2", false, 0, 0, SessionState.IDLE), null);
        bad.sequenced(d, status(2, SessionState.IDLE));
        user.finish();
        AuditSummary summary = AuditSummary.of(List.of(user));
        assertEquals(2, summary.sessions());
        assertEquals(2, summary.events());
        assertEquals(1, summary.violationCount());
        assertEquals("s2", summary.violations().get(0).session());
        assertEquals(Map.of("seq_gap", 1L), summary.violationKinds());
        assertFalse(summary.passed());
    }

    /** Message {@code id}'s honest turn from {@code seq} whose result carries the demo worker's turn count {@code n}. */
    private static List<ServerMessage.Sequenced> countedTurn(long seq, String id, int n) {
        ServerMessage.Event result = new ServerMessage.Event(
                seq + 4,
                JSON.objectNode()
                        .put("type", "result")
                        .put("id", id)
                        .put("text", "abcdefghi")
                        .put("turn", n));
        return List.of(
                status(seq, SessionState.PROCESSING),
                delta(seq + 1, id, "abc"),
                delta(seq + 2, id, "def"),
                delta(seq + 3, id, "ghi"),
                result,
                status(seq + 5, SessionState.IDLE));
    }

    @Test
    void turnCountsGoOnOrTheAuditSaysWhichTurnCameTwiceOrWentMissing() {
        audit.sent("m1", ABC);
        audit.sent("m2", ABC);
        deliver(first, countedTurn(1, "m1", 1));
        deliver(first, countedTurn(7, "m2", 2));
        assertEquals(List.of(), kinds());
        assertEquals(2, audit.turnsChecked());

        audit.sent("m3", ABC);
        deliver(first, countedTurn(13, "m3", 2)); // a checkpoint lost: the count went back
        assertEquals(List.of("turn_repeated"), kinds());

        newSession();
        audit.sent("m1", ABC);
        audit.sent("m2", ABC);
        deliver(first, countedTurn(1, "m1", 1));
        deliver(first, countedTurn(7, "m2", 3)); // a turn nobody reported lost
        assertEquals(List.of("turn_skipped"), kinds());
    }

    @Test
    void aTurnThatSessionMovedNamesAsLostIsAccountedForAndMaySkipItsCount() {
        audit.sent("m1", ABC);
        audit.sent("m2", ABC);
        audit.sent("m3", ABC);
        deliver(first, countedTurn(1, "m1", 1));
        ObjectNode details = JSON.objectNode().put("from_node", "node-1").put("turn_id", "m2");
        deliver(
                first,
                List.of(
                        status(7, SessionState.PROCESSING),
                        delta(8, "m2", "abc"),
                        new ServerMessage.Notice(9, "session_moved", "moved", details),
                        status(10, SessionState.RESTARTING)));
        deliver(first, countedTurn(11, "m3", 3)); // m2's count was saved before its node died
        audit.finish(false);
        assertEquals(List.of(), kinds());
        assertEquals(1, audit.crashedTurns());
    }
}
