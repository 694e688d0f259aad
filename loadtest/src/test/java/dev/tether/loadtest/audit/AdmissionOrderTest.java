package dev.tether.loadtest.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.loadtest.audit.AdmissionOrder.End;
import dev.tether.loadtest.audit.AdmissionOrder.Kind;
import dev.tether.loadtest.audit.AdmissionOrder.Violation;
import dev.tether.loadtest.audit.AdmissionOrder.Waiter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdmissionOrderTest {

    private static final Duration MAX_WAIT = Duration.ofSeconds(10);
    private static final Duration SLACK = Duration.ofMillis(100);

    private static long ms(long millis) {
        return millis * 1_000_000L;
    }

    private static Waiter served(int id, long queuedMs, long readyMs, Integer... positions) {
        return new Waiter(id, ms(queuedMs), List.of(positions), End.SERVED, ms(readyMs));
    }

    private static Waiter timedOut(int id, long queuedMs, long timeoutMs) {
        return new Waiter(id, ms(queuedMs), List.of(1), End.TIMED_OUT, ms(timeoutMs));
    }

    private static List<Kind> kinds(List<Violation> violations) {
        return violations.stream().map(Violation::kind).toList();
    }

    @Test
    void aLineServedInArrivalOrderHasNoViolation() {
        List<Waiter> line = List.of(served(0, 0, 1_000, 1), served(1, 5, 2_000, 2, 1), served(2, 10, 3_000, 3, 2, 1));
        assertEquals(List.of(), AdmissionOrder.check(line, MAX_WAIT, SLACK));
    }

    @Test
    void aLaterWaiterServedFirstIsOvertaking() {
        List<Waiter> line = List.of(served(0, 0, 3_000, 1), served(1, 5, 1_000, 2, 1));
        List<Violation> violations = AdmissionOrder.check(line, MAX_WAIT, SLACK);
        assertEquals(List.of(Kind.OVERTAKEN), kinds(violations));
        assertEquals(1, violations.get(0).id());
        assertTrue(
                violations.get(0).detail().contains("client 0"),
                violations.get(0).detail());
    }

    @Test
    void aWaiterServedWhileAnEarlierOneStillWaitedToTimeOutIsOvertaking() {
        List<Waiter> line = List.of(timedOut(0, 0, 10_300), served(1, 5, 2_000, 2, 1));
        assertEquals(List.of(Kind.OVERTAKEN), kinds(AdmissionOrder.check(line, MAX_WAIT, SLACK)));
    }

    @Test
    void aLastOfASeriesServedLongBeforeItsEarliestWaiterIsFoundToo() {
        // 2 and 3 are in order with each other, but both went ahead of 0.
        List<Waiter> line = List.of(
                served(0, 0, 5_000, 1), served(1, 5, 5_050, 2), served(2, 10, 1_000, 3), served(3, 15, 1_010, 4));
        List<Violation> violations = AdmissionOrder.check(line, MAX_WAIT, SLACK);
        assertEquals(List.of(Kind.OVERTAKEN, Kind.OVERTAKEN), kinds(violations));
        assertEquals(List.of(2, 3), violations.stream().map(Violation::id).toList());
    }

    @Test
    void reorderingWithinTheSlackIsDeliveryJitterNotAViolation() {
        List<Waiter> line = List.of(served(0, 0, 1_050, 1), served(1, 5, 1_000, 1));
        assertEquals(List.of(), AdmissionOrder.check(line, MAX_WAIT, SLACK));
    }

    @Test
    void timeOutsAreAuditedAgainstMaxWaitAndItsOneSecondCheck() {
        assertEquals(List.of(), AdmissionOrder.check(List.of(timedOut(0, 0, 10_400)), MAX_WAIT, SLACK));
        assertEquals(
                List.of(Kind.EARLY_TIMEOUT),
                kinds(AdmissionOrder.check(List.of(timedOut(0, 0, 9_000)), MAX_WAIT, SLACK)));
        assertEquals(List.of(Kind.LATE), kinds(AdmissionOrder.check(List.of(timedOut(0, 0, 11_500)), MAX_WAIT, SLACK)));
        assertEquals(
                List.of(Kind.LATE), kinds(AdmissionOrder.check(List.of(served(0, 0, 12_000, 1)), MAX_WAIT, SLACK)));
    }

    @Test
    void aPositionThatGoesUpIsAViolation() {
        List<Violation> violations = AdmissionOrder.check(List.of(served(0, 0, 1_000, 3, 2, 4, 1)), MAX_WAIT, SLACK);
        assertEquals(List.of(Kind.POSITION_ROSE), kinds(violations));
    }

    @Test
    void waitersThatEndedOtherwiseAreLeftOutOfTheOrder() {
        List<Waiter> line = List.of(new Waiter(0, ms(0), List.of(1), End.OTHER, ms(9_000)), served(1, 5, 1_000, 2, 1));
        assertEquals(List.of(), AdmissionOrder.check(line, MAX_WAIT, SLACK));
    }
}
