package dev.tether.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The check of a JVM the tests start (a server run as its own process): after
 * {@link NettyLeaks#collectGarbageIn} and one allocation there, a buffer it dropped is in its output
 * as a {@code LEAK:} report that {@link NettyLeaks#reportsIn} finds, and one it released is not.
 */
class NettyLeaksInAnotherJvmTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final String DROPPED = "dropped on purpose by another JVM";
    private static final String RELEASED = "released by another JVM";

    @Test
    void aBufferDroppedInAnotherJvmIsReportedThereAndOneReleasedIsNot() throws Exception {
        String output = run();
        List<String> reports = NettyLeaks.reportsIn(output);
        assertEquals(1, reports.size(), output);
        assertTrue(reports.get(0).contains("LEAK: ByteBuf.release() was not called"), reports.get(0));
        assertTrue(reports.get(0).contains(DROPPED), reports.get(0));
        assertFalse(output.contains(RELEASED), output);
    }

    @Test
    void reportsAreReadWithTheirRecordsAndNothingElse() {
        String report = """
                SEVERE: LEAK: ByteBuf.release() was not called before it's garbage-collected.
                Recent access records:\s
                #1:
                \tHint: here
                \tdev.tether.Foo.bar(Foo.java:1)
                Created at:
                \tdev.tether.Foo.baz(Foo.java:2)""";
        String output = String.join(
                "\n",
                "12:00:00.000 INFO  listening on 127.0.0.1:1234",
                "Dec 04, 2026 9:02:01 AM io.netty.util.ResourceLeakDetector reportTracedLeak",
                report,
                "12:00:01.000 INFO  stopped");
        assertEquals(List.of(report), NettyLeaks.reportsIn(output));
        assertEquals(List.of(), NettyLeaks.reportsIn("no leak here\n\tnor here"));
    }

    /**
     * Runs {@link Child}, collects its garbage once it is ready, makes it allocate once, and returns
     * everything it wrote.
     */
    private static String run() throws Exception {
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Dio.netty.leakDetection.level=paranoid",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Child.class.getName())
                .redirectErrorStream(true)
                .start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in =
                            new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        lines.add("(output unreadable: " + e + ")");
                    }
                },
                "child-output");
        reader.setDaemon(true);
        reader.start();
        List<String> output = new ArrayList<>();
        try {
            awaitLine(lines, "ready", output);
            NettyLeaks.collectGarbageIn(child.pid(), DEADLINE);
            try (Writer in = new java.io.OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
                in.write("allocate\n");
                in.flush();
                awaitLine(lines, "allocated", output);
            }
            assertTrue(
                    child.waitFor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS), "the child exits once its input ends");
            reader.join(DEADLINE.toMillis());
            lines.drainTo(output);
            return String.join("\n", output);
        } finally {
            child.destroyForcibly();
        }
    }

    private static void awaitLine(LinkedBlockingQueue<String> lines, String wanted, List<String> output)
            throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertNotNull(line, "no line " + wanted + " within " + DEADLINE + " after:\n" + String.join("\n", output));
            output.add(line);
            if (line.equals(wanted)) {
                return;
            }
        }
    }

    /**
     * A JVM that allocates two direct buffers, drops one and releases the other, says {@code ready},
     * then allocates and releases one buffer per line it reads.
     */
    static final class Child {
        public static void main(String[] args) throws IOException {
            Unpooled.directBuffer(8).writeInt(1).touch(DROPPED);
            Unpooled.directBuffer(8).writeInt(2).touch(RELEASED).release();
            System.out.println("ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                Unpooled.directBuffer(8).release();
                System.out.println("allocated");
            }
        }
    }
}
