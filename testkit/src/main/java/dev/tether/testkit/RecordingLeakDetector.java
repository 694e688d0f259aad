package dev.tether.testkit;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;
import java.util.function.Consumer;

/**
 * Netty's own leak detector, with two differences: it reports a leak even when the logger of
 * {@code io.netty.util.ResourceLeakDetector} is switched off, and it hands every report to
 * {@link NettyLeaks} as well as logging it. {@link #reportPending()} makes it report what the
 * garbage collector has already found, without waiting for the next tracked allocation.
 *
 * <p>Thread-safe, as Netty's detector is: reports arrive on whichever thread allocates.
 */
final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    /** Tracked and released at once by {@link #reportPending()}; never leaks. */
    private static final Object PROBE = new Object();

    private final String resourceType;

    RecordingLeakDetector(Class<?> resourceType, int samplingInterval, Consumer<String> reports) {
        super(resourceType, samplingInterval);
        this.resourceType = resourceType.getSimpleName();
        setLeakListener((type, records) -> reports.accept(format(type, records)));
    }

    /** The simple name of what it tracks, as in its reports ({@code ByteBuf}). */
    String resourceType() {
        return resourceType;
    }

    /**
     * Reports the leaks whose objects the garbage collector has already cleared: Netty does that at
     * the start of every forced track, so one track of a probe, closed at once, is enough.
     */
    void reportPending() {
        // Netty's detector does not look at the tracked object's type; T is erased here anyway.
        @SuppressWarnings("unchecked")
        T probe = (T) PROBE;
        ResourceLeakTracker<T> tracker = trackForcibly(probe);
        tracker.close(probe);
    }

    /** A report in the words Netty logs it with, so a failure reads like the log line. */
    static String format(String resourceType, String records) {
        String where =
                records.isEmpty() ? " (no access records: the leak detection level was below advanced)" : records;
        return "LEAK: " + resourceType + ".release() was not called before it's garbage-collected." + where;
    }

    /** Reported even when the logger is off: a leak must never go unseen. */
    @Override
    protected boolean needReport() {
        return true;
    }
}
