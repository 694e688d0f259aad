package dev.tether.loadtest.scenario;

import dev.tether.loadtest.client.RunStats;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The live progress line: sessions up, messages per second, errors, elapsed. On a terminal it
 * rewrites one line every second; without one ({@code System.console() == null}: CI, a pipe) it
 * prints a plain line every five seconds. Written by the scenario's ticking thread only.
 *
 * <p>Hand-written rather than a progress-bar library: a run has no known end to draw a bar toward
 * (connects, chaos and drains vary), and a one-line status needs no terminal handling.
 */
final class Progress {

    private final boolean enabled;
    private final boolean terminal;
    private final PrintStream out;
    private int ticks;

    Progress(boolean enabled, PrintStream out) {
        this.enabled = enabled;
        this.terminal = System.console() != null;
        this.out = out;
    }

    /** Shows one second of the run ({@code label}: the phase, e.g. "warm-up"). */
    void show(String label, RunStats.Second second, RunStats stats, double elapsedS) {
        ticks++;
        if (!enabled || (!terminal && ticks % 5 != 0)) {
            return;
        }
        String line = String.format(Locale.ROOT, "%-8s %6.0fs  sessions %5d  sent %6d/s  results %6d/s  p99 %8.2f ms  errors %d",
                label, elapsedS, second.sessions(), second.sent(), second.results(), second.p99Ms(), stats.errorCount());
        if (terminal) {
            out.print("\r" + line);
            out.flush();
        } else {
            out.println(line);
        }
    }

    /** Ends the rewritten line so that what follows starts on a fresh one. */
    void done() {
        if (enabled && terminal && ticks > 0) {
            out.println();
        }
    }
}
