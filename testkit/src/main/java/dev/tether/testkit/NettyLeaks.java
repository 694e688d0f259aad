package dev.tether.testkit;

import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The leaks Netty's detectors report in this JVM. Loading this class makes every Netty leak
 * detector created from then on a {@link RecordingLeakDetector}, which records each report here as
 * well as logging it; {@link #collect(Duration)} makes the detectors report what is garbage now and
 * takes the reports. {@link LeakCheckExtension} does that after each test class.
 *
 * <p>Thread-safe.
 */
public final class NettyLeaks {

    /** How long the garbage collections of {@link #assertNone} may take. */
    public static final Duration DEADLINE = Duration.ofSeconds(30);

    private static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
    private static final List<RecordingLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();

    /** Whether ByteBuf's detector, made once when Netty's buffers are first used, is one of ours. */
    private static final boolean WATCHES_BUFFERS;

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation") // the abstract method every factory must implement
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                    Class<T> resource, int samplingInterval, long maxActive) {
                RecordingLeakDetector<T> detector =
                        new RecordingLeakDetector<>(resource, samplingInterval, REPORTS::add);
                DETECTORS.add(detector);
                return detector;
            }
        });
        // The first buffer creates ByteBuf's detector through the factory above, unless Netty's
        // buffers were used before this class was loaded: then it is Netty's own, and reports nothing here.
        Unpooled.buffer(1).release();
        WATCHES_BUFFERS =
                DETECTORS.stream().anyMatch(detector -> detector.resourceType().equals("ByteBuf"));
    }

    private NettyLeaks() {}

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

    /**
     * Fails when {@link #collect} finds a leak, with every report in the message.
     *
     * @param when when the leaks happened, for the message: "while ... ran"
     * @throws AssertionError naming the leaks
     * @throws IllegalStateException when buffer leaks are not recorded here ({@link #requireInstalled})
     */
    public static void assertNone(String when) {
        requireInstalled();
        List<String> leaks = collect(DEADLINE);
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + (leaks.size() == 1 ? " leak" : " leaks")
                    + " " + when + "; the records say where each object was created and last touched, newest first:\n\n"
                    + String.join("\n\n", leaks));
        }
    }

    /**
     * The leak reports Netty wrote in another JVM's {@code output}: each line with {@code LEAK:},
     * with the access records that follow it (lines starting with a tab, {@code #}, or {@code Recent
     * access records} / {@code Created at}). Empty when there is none.
     */
    public static List<String> reportsIn(String output) {
        List<String> reports = new ArrayList<>();
        StringBuilder report = null;
        for (String line : output.lines().toList()) {
            if (line.contains("LEAK:")) {
                if (report != null) {
                    reports.add(report.toString());
                }
                report = new StringBuilder(line);
            } else if (report != null
                    && (line.startsWith("\t")
                            || line.startsWith("#")
                            || line.startsWith("Recent access records")
                            || line.startsWith("Created at"))) {
                report.append('\n').append(line);
            } else if (report != null) {
                reports.add(report.toString());
                report = null;
            }
        }
        if (report != null) {
            reports.add(report.toString());
        }
        return reports;
    }

    /**
     * Runs a full garbage collection in the JVM {@code pid} ({@code jcmd PID GC.run}, which returns
     * once the collection is done), so that what it has dropped sits in its leak detectors' queues.
     * Netty reports those on the JVM's next tracked allocations: the caller makes it allocate (a
     * request to it, say) before reading its output with {@link #reportsIn}. (Its reference handler
     * thread hands the cleared references to the queues just after the collection: far sooner than
     * a request reaches it.)
     *
     * @throws IllegalStateException when {@code jcmd} fails or takes longer than {@code timeout}
     */
    public static void collectGarbageIn(long pid, Duration timeout) {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Path output = null;
        try {
            output = Files.createTempFile("jcmd-", ".txt");
            Process process = new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IllegalStateException("jcmd " + pid + " GC.run "
                        + (exited ? "failed" : "took over " + timeout) + ": " + Files.readString(output));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + jcmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while jcmd ran", e);
        } finally {
            deleteQuietly(output);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // A temporary file left behind.
            }
        }
    }

    private static void awaitCollection(long deadline, Duration timeout) {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> canary = new WeakReference<>(new Object(), queue);
        try {
            while (true) {
                System.gc();
                Reference<?> cleared =
                        queue.remove(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
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
