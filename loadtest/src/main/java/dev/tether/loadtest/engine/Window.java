package dev.tether.loadtest.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * The measured part of a run, from the end of the warm-up to the end of the run: results answered
 * and CPU time used in it, by the target's process tree (the server and its workers) and by this
 * client; divided, the CPU each message cost. Written by the scenario's thread only.
 */
public final class Window {

    private long results0;
    private long results1;
    private long nanos0;
    private long nanos1;
    private Optional<Duration> server0 = Optional.empty();
    private Optional<Duration> server1 = Optional.empty();
    private Optional<Duration> client0 = Optional.empty();
    private Optional<Duration> client1 = Optional.empty();
    private Optional<Duration> store0 = Optional.empty();
    private Optional<Duration> store1 = Optional.empty();

    /** The session store's process (a redis-server started for the run), read when the window opens and closes. */
    public void store(Optional<Duration> atOpen, Optional<Duration> atClose) {
        store0 = atOpen;
        store1 = atClose;
    }

    /** The window opens: results so far, now, and the CPU meters' readings. */
    public void open(long results, long nanos, Optional<Duration> serverCpu, Optional<Duration> clientCpu) {
        results0 = results;
        nanos0 = nanos;
        server0 = serverCpu;
        client0 = clientCpu;
    }

    /** The window closes. */
    public void close(long results, long nanos, Optional<Duration> serverCpu, Optional<Duration> clientCpu) {
        results1 = results;
        nanos1 = nanos;
        server1 = serverCpu;
        client1 = clientCpu;
    }

    /** Messages answered in the window. */
    public long results() {
        return results1 - results0;
    }

    public double seconds() {
        return (nanos1 - nanos0) / 1e9;
    }

    /** Microseconds of the target's process-tree CPU per message answered in the window; NaN when unknown. */
    public double serverCpuMicrosPerMessage() {
        return perMessage(server0, server1);
    }

    public double clientCpuMicrosPerMessage() {
        return perMessage(client0, client1);
    }

    private double perMessage(Optional<Duration> a, Optional<Duration> b) {
        if (a.isEmpty() || b.isEmpty() || results() <= 0) {
            return Double.NaN;
        }
        return b.get().minus(a.get()).toNanos() / 1e3 / results();
    }

    private double cpuShare(Optional<Duration> a, Optional<Duration> b) {
        if (a.isEmpty() || b.isEmpty() || seconds() <= 0) {
            return Double.NaN;
        }
        return b.get().minus(a.get()).toNanos() / 1e9 / seconds();
    }

    /**
     * The report's {@code engine} section: how the run was driven, throughput and CPU in the window,
     * frames per message each way (all frames of the run over all its results), and the round trip.
     */
    public ObjectNode figures(
            RunStats stats,
            EngineFleet.Finish finish,
            String target,
            String transport,
            int threads,
            boolean closedLoop,
            int inFlight) {
        ObjectNode node = ReportBuilder.object()
                .put("client", "netty")
                .put("transport", transport)
                .put("threads", threads)
                .put("target", target)
                .put("loop", closedLoop ? "closed" : "open");
        if (closedLoop) {
            node.put("in_flight_per_session", inFlight);
        }
        long allResults = stats.resultCount();
        node.put("window_s", seconds())
                .put("results_in_window", results())
                .put("results_per_s", seconds() > 0 ? results() / seconds() : 0)
                .put("server_cpu_us_per_message", serverCpuMicrosPerMessage())
                .put("server_cpu_cores", cpuShare(server0, server1))
                .put("client_cpu_us_per_message", clientCpuMicrosPerMessage())
                .put("store_cpu_us_per_message", perMessage(store0, store1))
                .put("client_cpu_cores", cpuShare(client0, client1))
                .put("frames_in_per_message", allResults > 0 ? (double) finish.framesIn() / allResults : 0)
                .put("frames_out_per_message", allResults > 0 ? (double) finish.framesOut() / allResults : 0);
        Histogram rt = stats.histogram(RunStats.Metric.ROUND_TRIP);
        ObjectNode latency = node.putObject("round_trip_ms").put("count", rt.getTotalCount());
        if (rt.getTotalCount() > 0) {
            latency.put("p50", rt.getValueAtPercentile(50) / 1000.0)
                    .put("p90", rt.getValueAtPercentile(90) / 1000.0)
                    .put("p99", rt.getValueAtPercentile(99) / 1000.0)
                    .put("p999", rt.getValueAtPercentile(99.9) / 1000.0)
                    .put("max", rt.getMaxValue() / 1000.0);
        }
        node.put("errors", stats.errorCount());
        return node;
    }
}
