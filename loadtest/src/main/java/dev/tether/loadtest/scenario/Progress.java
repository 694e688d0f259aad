package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import java.io.Console;
import java.io.PrintStream;
import java.util.Optional;
import java.util.function.Consumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The live progress display on standard error, a {@code me.tongfei:progressbar} bar: elapsed
 * seconds over the run's known length (warm-up plus measured time), or sessions opened over N for
 * the phases without a fixed duration, with an extra message (sessions up, messages per second,
 * errors). On a terminal the library redraws the bar every second; without one
 * ({@code System.console() == null}: CI, a pipe, a file) it goes through the library's delegating
 * consumer as a plain ASCII line every five seconds, so no carriage returns or colour codes end up
 * in logs. Disabled ({@code --no-progress}) it does nothing.
 *
 * <p>Updated from the scenario's thread and connect callbacks (the library's state is
 * synchronised); the library draws on its own daemon thread. Close it before printing anything else.
 */
final class Progress implements AutoCloseable {

    /** Plain lines are this wide at most (the library truncates the bar to fit). */
    static final int PLAIN_WIDTH = 120;

    static final int TERMINAL_INTERVAL_MS = 1000;
    static final int PLAIN_INTERVAL_MS = 5000;

    private static final Progress OFF = new Progress(null);

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar of elapsed seconds over {@code totalSeconds}. */
    static Progress seconds(boolean enabled, String task, long totalSeconds) {
        return open(enabled, task, totalSeconds, "s", onTerminal(), System.err);
    }

    /** A bar counting to {@code total} things (sessions, rounds), called {@code unit}. */
    static Progress count(boolean enabled, String task, long total, String unit) {
        return open(enabled, task, total, unit, onTerminal(), System.err);
    }

    /**
     * Whether this process talks to a terminal: up to Java 21 {@code System.console()} is null
     * otherwise; from Java 22 it always returns a console and {@code Console.isTerminal()} tells.
     */
    static boolean onTerminal() {
        return Optional.ofNullable(System.console()).map(Progress::isTerminal).orElse(false);
    }

    private static boolean isTerminal(Console console) {
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // up to Java 21: a console at all means a terminal
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    /**
     * @param terminal draw for a terminal (redrawn in place) rather than as plain lines
     * @param plainOut where the plain lines go; the terminal bar always draws on standard error
     */
    static Progress open(
            boolean enabled, String task, long total, String unit, boolean terminal, PrintStream plainOut) {
        requireNonNull(task, "task");
        requireNonNull(unit, "unit");
        requireNonNull(plainOut, "plainOut");
        if (!enabled) {
            return OFF;
        }
        ProgressBarBuilder builder = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(Math.max(total, 1))
                .setUnit(" " + unit, 1)
                .continuousUpdate();
        if (terminal) {
            builder.setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(TERMINAL_INTERVAL_MS);
        } else {
            builder.setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(PLAIN_INTERVAL_MS)
                    .setConsumer(new DelegatingProgressBarConsumer(new PlainLines(plainOut), PLAIN_WIDTH));
        }
        return new Progress(builder.build());
    }

    /**
     * Moves the bar to {@code current} and sets the message shown after it. Calls from racing
     * threads that arrive out of order are ignored rather than moving the bar back (which would
     * also make the library redraw at once).
     */
    synchronized void update(long current, String message) {
        if (bar != null && current >= bar.getCurrent()) {
            bar.setExtraMessage(message);
            bar.stepTo(current);
        }
    }

    /** Advances the bar by one and sets the message shown after it. */
    synchronized void step(String message) {
        if (bar != null) {
            bar.setExtraMessage(message);
            bar.step();
        }
    }

    /** Prints each rendered line, except one equal to the line before (closing draws the last state twice). */
    private static final class PlainLines implements Consumer<String> {
        private final PrintStream out;
        private String last;

        PlainLines(PrintStream out) {
            this.out = out;
        }

        @Override
        public synchronized void accept(String line) {
            if (!line.equals(last)) {
                out.println(line);
                last = line;
            }
        }
    }

    /** Draws the last state and ends the bar's line, so that what follows starts on a fresh one. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
