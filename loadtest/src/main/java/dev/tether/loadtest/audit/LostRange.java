package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Events a {@code replay_gap} announced lost: the range it named, how many of its seqs the client
 * had not seen before (the loss; seqs it had seen, because it resumed below what it had processed,
 * cost nothing), and the messages whose turns it hit (their deltas or result never came).
 */
public record LostRange(String session, long from, long to, long lost, List<String> messages) {
    public LostRange {
        requireNonNull(session, "session");
        messages = List.copyOf(messages);
    }

    @Override
    public String toString() {
        return "session " + session + ": seqs " + from + ".." + to + " (" + lost + " unseen), messages hit: "
                + (messages.isEmpty() ? "none" : String.join(", ", messages));
    }
}
