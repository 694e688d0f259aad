package dev.tether.loadtest.audit;

import java.util.List;

/**
 * What a message's turn must look like on the wire, as a {@link TurnModel} predicts it: these
 * delta texts in this order, then one {@code result} with {@code text}; or, for a message
 * that asks its worker to crash, the first {@code crashAfter} deltas and then a
 * {@code worker_crashed} notice naming it. Immutable.
 *
 * @param deltas      the texts of the deltas, in order (empty strings included: they are events too)
 * @param text        the result's text
 * @param crashAfter  deltas before the worker crashes on purpose; -1 when it does not
 * @param predictable false when the message asks for something the model cannot foresee (extra
 *                    events, garbage ...): then the turn is counted but its content not checked
 */
public record ExpectedTurn(List<String> deltas, String text, int crashAfter, boolean predictable) {
    public ExpectedTurn {
        deltas = List.copyOf(deltas);
    }

    /** Whether the worker is asked to crash during this turn. */
    public boolean crashes() {
        return crashAfter >= 0;
    }
}
