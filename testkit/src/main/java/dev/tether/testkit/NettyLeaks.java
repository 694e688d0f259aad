package dev.tether.testkit;

import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The leaks Netty's detectors report in this JVM. Loading this class makes every Netty leak
 * detector created from then on a {@link RecordingLeakDetector}, which records each report here as
 * well as logging it; {@link #collect(Duration)} makes the detectors report what is garbage now and
 * takes the reports. {@link LeakCheckExtension} does that after each test class.
 *
 * <p>Thread-safe.
 */
public final class NettyLeaks {

    private static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
    private static final List<RecordingLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();

    /** Whether ByteBuf's detector, made once when Netty's buffers are first used, is one of ours. */
    private static final boolean WATCHES_BUFFERS;

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation") // the abstract method every factory must implement
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                    long maxActive) {
                RecordingLeakDetector<T> detector = new RecordingLeakDetector<>(resource, samplingInterval, REPORTS::add);
                DETECTORS.add(detector);
                return detector;
            }
        });
        // The first buffer creates ByteBuf's detector through the factory above, unless Netty's
        // buffers were used before this class was loaded: then it is Netty's own, and reports nothing here.
        Unpooled.buffer(1).release();
        WATCHES_BUFFERS = DETECTORS.stream().anyMatch(detector -> detector.resourceType().equals("ByteBuf"));
    }

    private NettyLeaks() {
    }

    /**
     * Fails unless leaks of Netty's buffers are recorded here, which they are when this class was
     * loaded before the first buffer was allocated in this JVM.
     *
     * @throws IllegalStateException naming the cause
     */
    public static void requireInstalled() {
        if (!WATCHES_BUFFERS) {
            throw new IllegalStateException("Netty's ByteBuf leak detector was created before "
                    + NettyLeaks.class.getName() + " was loaded, so buffer leaks would not be recorded: "
                    + "something allocated a ByteBuf before the JUnit engine started (the leak check is "
                    + "registered through META-INF/services with junit.jupiter.extensions.autodetection.enabled=true)");
        }
    }

    /**
     * Makes every detector report the leaks of what is garbage now, and returns (and forgets) every
     * report since the last call, oldest first; empty when nothing leaked.
     *
     * <p>Two garbage collections, each awaited through a weakly referenced canary: the JVM hands
     * cleared references to their queues in batches, one batch at a time, so once the second canary
     * is in its queue every leak the first collection found is in its detector's queue. Then one
     * forced track per detector makes it read that queue.
     *
     * @param timeout how long the two collections may take
     * @throws IllegalStateException when they do not happen in time (e.g. with {@code -XX:+DisableExplicitGC})
     */
    public static List<String> collect(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        awaitCollection(deadline, timeout);
        awaitCollection(deadline, timeout);
        for (RecordingLeakDetector<?> detector : DETECTORS) {
            detector.reportPending();
        }
        List<String> reports = new ArrayList<>();
        for (String report = REPORTS.poll(); report != null; report = REPORTS.poll()) {
            reports.add(report);
        }
        return reports;
    }

    private static void awaitCollection(long deadline, Duration timeout) {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> canary = new WeakReference<>(new Object(), queue);
        try {
            while (true) {
                System.gc();
                Reference<?> cleared = queue.remove(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
                if (cleared == canary) {
                    return;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("System.gc() collected nothing within " + timeout
                            + " (is -XX:+DisableExplicitGC set?): the leak check cannot run");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a garbage collection", e);
        } finally {
            Reference.reachabilityFence(canary);
        }
    }
}
