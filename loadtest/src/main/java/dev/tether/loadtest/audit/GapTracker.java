package dev.tether.loadtest.audit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code replay_gap}s of one session that cost events, and the messages each one hit (listed
 * shortest id first, so {@code m9} before {@code m10}). Not thread-safe: owned by one
 * {@link SessionAudit}.
 */
final class GapTracker {

    /** One announced loss; {@link TurnAudit} names the messages it hit as their turns end. */
    static final class Gap {
        final long from;
        final long to;
        final long lost;
        private final Set<String> hit = new LinkedHashSet<>();

        Gap(long from, long to, long lost) {
            this.from = from;
            this.to = to;
            this.lost = lost;
        }

        void hit(String messageId) {
            hit.add(messageId);
        }
    }

    private final List<Gap> gaps = new ArrayList<>();

    Gap add(long from, long to, long lost) {
        Gap gap = new Gap(from, to, lost);
        gaps.add(gap);
        return gap;
    }

    List<LostRange> ranges(String session) {
        List<LostRange> ranges = new ArrayList<>(gaps.size());
        for (Gap gap : gaps) {
            List<String> hit = new ArrayList<>(gap.hit);
            hit.sort(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()));
            ranges.add(new LostRange(session, gap.from, gap.to, gap.lost, hit));
        }
        return ranges;
    }
}
