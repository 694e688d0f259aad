package dev.tether.loadtest.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The benchmarks are compiled into JMH's list (the annotation processor ran), the {@code jmh}
 * subcommand parses its options, and the payloads have the sizes the benchmarks claim. Running the
 * benchmarks themselves is left to {@code loadtest jmh}: timing belongs in benchmarks, not tests.
 */
class JmhSetupTest {

    @Test
    void everyBenchmarkIsInJmhsList() throws Exception {
        String list;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/BenchmarkList")) {
            assertNotNull(in, "META-INF/BenchmarkList: the JMH annotation processor did not run");
            list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String benchmark : List.of(
                "CodecBenchmark_encodeEvent",
                "CodecBenchmark_decodeEvent",
                "CodecBenchmark_encodeMessage",
                "CodecBenchmark_decodeMessage",
                "ReplayBufferBenchmark_appendEvictByCount",
                "ReplayBufferBenchmark_appendEvictByBytes",
                "ReplayBufferBenchmark_appendThenAck",
                "ReplayBufferBenchmark_replayLast10",
                "ReplayBufferBenchmark_replayAll")) {
            assertTrue(list.contains(benchmark + "_jmhTest"), benchmark);
        }
    }

    @Test
    void theSubcommandHasModestDefaultsAndTakesOverrides() {
        JmhCommand defaults = new JmhCommand();
        new CommandLine(defaults).parseArgs();
        assertEquals(1, defaults.forks);
        assertEquals(3, defaults.warmupIterations);
        assertEquals(5, defaults.iterations);
        assertEquals(1, defaults.seconds);

        JmhCommand custom = new JmhCommand();
        new CommandLine(custom)
                .parseArgs("--include", "ReplayBuffer", "--forks", "2", "--jvm-args", "-Xmx1g -XX:+UseParallelGC");
        assertEquals("ReplayBuffer", custom.include);
        assertEquals(2, custom.forks);
        assertEquals(List.of("-Xmx1g", "-XX:+UseParallelGC"), List.of(custom.jvmArgs));
    }

    @Test
    void payloadSizes() {
        assertEquals(4096, Payloads.of("4k").length());
        assertTrue(Payloads.of("small").length() < 64);
    }
}
