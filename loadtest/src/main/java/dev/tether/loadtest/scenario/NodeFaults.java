package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.loadtest.gateway.GatewayNodes;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code chaos --nodes N}: faults put on the gateway nodes while the traffic runs, one at a time on a
 * thread of its own. Every {@code interval} (counted from the moment the last faulted node was up
 * again) the next kind of {@code kinds}, in turn, hits the next node, in turn: {@code drain}
 * (SIGTERM: the node lets its sessions go, their clients get close 1001; it starts again after
 * {@code downTime}), {@code kill} (SIGKILL: the node's sessions stay leased to it until the lease
 * runs out; it starts again after {@code downTime}) or {@code restart} (SIGTERM, started again at
 * once). A fault under way when the traffic ends is finished, the node started again, so that every
 * node is up when the run ends its sessions. With {@code minFaults}, the end waits (at most
 * {@link #MIN_FAULTS_WAIT}) until that many faults were put and their nodes are up again, so that a
 * short run on a slow machine still has them; a run that does not get them counts an error.
 */
final class NodeFaults implements Traffic.Hook {

    /** One fault as it happened, for the report. */
    private record Done(String kind, String node, double atS, long stopMs, long startMs, String error) {}

    private final GatewayNodes nodes;
    private final List<String> kinds;
    private final Duration interval;
    private final Duration downTime;
    /** The longest the end of a run waits for {@code minFaults}. */
    static final Duration MIN_FAULTS_WAIT = Duration.ofMinutes(2);

    private final int minFaults;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch enough;
    private RunStats stats;
    private final List<Done> done = new ArrayList<>();
    private Thread thread;

    NodeFaults(GatewayNodes nodes, List<String> kinds, Duration interval, Duration downTime, int minFaults) {
        this.minFaults = minFaults;
        this.enough = new CountDownLatch(Math.max(0, minFaults));
        this.nodes = requireNonNull(nodes, "nodes");
        this.kinds = List.copyOf(kinds);
        this.interval = requireNonNull(interval, "interval");
        this.downTime = requireNonNull(downTime, "downTime");
    }

    @Override
    public void start(List<VirtualUser> users, RunStats stats) {
        this.stats = stats;
        long t0 = System.nanoTime();
        thread = new Thread(() -> run(stats, t0), "node-faults");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(RunStats stats, long t0) {
        List<String> ids = nodes.ids();
        for (int i = 0; !kinds.isEmpty(); i++) {
            if (waitOrStop(interval)) {
                return;
            }
            String kind = kinds.get(i % kinds.size());
            String node = ids.get(i % ids.size());
            double atS = (System.nanoTime() - t0) / 1e9;
            long stopMs = -1;
            long startMs = -1;
            String error = null;
            try {
                stopMs = nodes.stop(node, kind).toMillis();
                stats.count("node_faults");
                stats.count("node_faults_" + kind);
                System.err.printf("chaos: %s %s at %.1f s (%d ms)%n", kind, node, atS, stopMs);
                if (!kind.equals("restart")) {
                    waitOrStop(downTime);
                }
                startMs = nodes.startAgain(node).toMillis();
                System.err.printf("chaos: %s up again (%d ms)%n", node, startMs);
            } catch (RuntimeException e) {
                error = e.getMessage();
                stats.error("node_fault_failed");
                System.err.printf("chaos: %s %s failed: %s%n", kind, node, e);
            }
            synchronized (done) {
                done.add(new Done(kind, node, atS, stopMs, startMs, error));
            }
            if (error == null) {
                enough.countDown();
            }
        }
    }

    /** Waits {@code time} unless the run stops first; true when it stopped. */
    private boolean waitOrStop(Duration time) {
        try {
            return stopping.await(time.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Stops putting faults and waits until the one under way (if any) is over and its node up again. */
    @Override
    public void stop() {
        try {
            if (thread != null && !enough.await(MIN_FAULTS_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                stats.error("node_faults_short");
                System.err.printf(
                        "chaos: fewer than %d node faults within %s after the traffic%n", minFaults, MIN_FAULTS_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopping.countDown();
        if (thread != null) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The report's list of faults: kind, node, when (s into the traffic), how long the stop and the start took. */
    ArrayNode toJson() {
        ArrayNode list = ReportBuilder.object().arrayNode();
        synchronized (done) {
            for (Done d : done) {
                ObjectNode node = list.addObject()
                        .put("kind", d.kind())
                        .put("node", d.node())
                        .put("at_s", d.atS())
                        .put("stop_ms", d.stopMs())
                        .put("start_ms", d.startMs());
                if (d.error() != null) {
                    node.put("error", d.error());
                }
            }
        }
        return list;
    }

    /** How many faults of {@code kind} were put. */
    long count(String kind) {
        synchronized (done) {
            return done.stream()
                    .filter(d -> d.kind().equals(kind) && d.stopMs() >= 0)
                    .count();
        }
    }
}
