package dev.tether.loadtest.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StreamAuditTest {

    private StreamAudit audit;

    @BeforeEach
    void setUp() {
        audit = new StreamAudit();
        audit.session("s1");
        audit.connected();
    }

    private void deliver(long from, long to) {
        for (long seq = from; seq <= to; seq++) {
            assertTrue(audit.sequenced(seq), "seq " + seq + " should be new");
        }
    }

    private List<String> kinds() {
        return audit.violations().stream().map(Violation::kind).toList();
    }

    @Test
    void aCleanStreamAcrossAResumePasses() {
        audit.sent("m1");
        audit.sent("m2");
        deliver(1, 5);
        audit.result("m1");
        audit.connected();
        deliver(6, 9);
        audit.result("m2");
        audit.finish();
        assertEquals(List.of(), audit.violations());
        assertEquals(9, audit.delivered());
        assertEquals(9, audit.lastProcessed());
        assertEquals(0, audit.lost());
    }

    @Test
    void aSkippedSeqIsAGap() {
        deliver(1, 3);
        assertTrue(audit.sequenced(5));
        audit.finish();
        assertEquals(List.of(StreamAudit.SEQ_GAP), kinds());
        assertTrue(audit.violations().get(0).detail().contains("expected seq 4, got 5"));
        assertEquals("s1", audit.violations().get(0).session());
    }

    @Test
    void aStreamNotStartingAtOneIsAGap() {
        assertTrue(audit.sequenced(2));
        assertEquals(List.of(StreamAudit.SEQ_GAP), kinds());
    }

    @Test
    void aReplayGapExplainsTheMissingSeqsAndCountsThemLost() {
        deliver(1, 3);
        audit.connected();
        audit.replayGap(4, 10);
        deliver(11, 12);
        audit.finish();
        assertEquals(List.of(), audit.violations());
        assertEquals(7, audit.lost());
        assertEquals(1, audit.gaps());
    }

    @Test
    void aReplayGapThatDoesNotFollowTheLastSeqIsAViolation() {
        deliver(1, 3);
        audit.replayGap(6, 10);
        assertEquals(List.of(StreamAudit.BAD_GAP), kinds());
    }

    @Test
    void anOldSeqReplayedAfterAReconnectIsDroppedNotAViolation() {
        deliver(1, 5);
        audit.connected();
        assertFalse(audit.sequenced(4));
        assertFalse(audit.sequenced(5));
        deliver(6, 6);
        audit.finish();
        assertEquals(List.of(), audit.violations());
        assertEquals(2, audit.duplicatesDropped());
        assertEquals(0, audit.duplicatesDelivered());
    }

    @Test
    void aSeqRepeatedOnTheSameConnectionIsAViolation() {
        deliver(1, 3);
        assertFalse(audit.sequenced(3));
        assertEquals(List.of(StreamAudit.SEQ_REPEATED), kinds());
        assertEquals(1, audit.duplicatesDelivered());
    }

    @Test
    void aSecondResultForOneIdIsADuplicate() {
        audit.sent("m1");
        audit.result("m1");
        audit.result("m1");
        assertEquals(List.of(StreamAudit.DUPLICATE_RESULT), kinds());
        assertEquals(1, audit.duplicatesDelivered());
    }

    @Test
    void aResentIdCountsOnce() {
        audit.sent("m1");
        audit.sent("m1");
        audit.result("m1");
        audit.finish();
        assertEquals(List.of(), audit.violations());
    }

    @Test
    void aResultForAnIdNeverSentIsUnexpected() {
        audit.result("m9");
        assertEquals(List.of(StreamAudit.UNEXPECTED_RESULT), kinds());
    }

    @Test
    void anUnansweredIdIsReportedAtTheEnd() {
        audit.sent("m1");
        audit.sent("m2");
        audit.result("m1");
        assertEquals(List.of("m2"), audit.unanswered());
        audit.finish();
        assertEquals(List.of(StreamAudit.UNANSWERED), kinds());
        assertTrue(audit.violations().get(0).detail().contains("m2"));
    }

    @Test
    void aWorkerCrashAccountsForItsTurn() {
        audit.sent("m1");
        audit.sent("m2");
        audit.workerCrashed("m1");
        audit.result("m2");
        assertTrue(audit.answered("m1"));
        audit.finish();
        assertEquals(List.of(), audit.violations());
        assertEquals(1, audit.crashedTurns());
    }

    @Test
    void aMessageRefusedByAnErrorIsNotWaitedFor() {
        audit.sent("m1");
        audit.refused("m1");
        assertTrue(audit.answered("m1"));
        audit.finish();
        assertEquals(List.of(), audit.violations());
        assertEquals(1, audit.refusedMessages());
    }

    @Test
    void theSummaryAddsUpAndFailsOnAnyViolation() {
        audit.sent("m1");
        deliver(1, 2);
        audit.result("m1");
        audit.finish();
        StreamAudit bad = new StreamAudit();
        bad.session("s2");
        bad.connected();
        bad.sequenced(1);
        bad.sequenced(3);
        bad.finish();
        AuditSummary summary = AuditSummary.of(List.of(audit, bad));
        assertFalse(summary.passed());
        assertEquals(2, summary.sessions());
        assertEquals(4, summary.events());
        assertEquals(1, summary.violationCount());
        assertEquals("s2", summary.violations().get(0).session());
        assertTrue(AuditSummary.of(List.of(audit)).passed());
    }
}
