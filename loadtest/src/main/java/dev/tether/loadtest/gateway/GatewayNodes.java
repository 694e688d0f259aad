package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.client.NodeRoute;
import dev.tether.loadtest.process.RedisServer;
import dev.tether.loadtest.process.RunningProcess;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Several gateways sharing their sessions through one Redis, all started here: one
 * {@code redis-server} ({@link RedisServer}) and N gateway processes with the same config, each with
 * its own {@code server.node_id} ({@code TETHER_NODE_ID=node-1..N}) and free port. Nodes can be
 * drained (SIGTERM), killed (SIGKILL) and started again with the same id, on a new port; the
 * {@link NodeRoute} it is sends each connection to a node that is up, as a proxy would.
 *
 * <p>Thread-safe: the fault thread changes a node's state under this object's lock, the virtual
 * users read it. A node is marked down before its signal goes, so that a connection lost with it is
 * known to be.
 */
public final class GatewayNodes implements NodeRoute, RunningProcess {

    /** How to start one node: the jar, config, environment and logs; {@code TETHER_NODE_ID} and the Redis URI are added. */
    public record Settings(
            Path jar,
            Path config,
            Map<String, String> env,
            Path logDir,
            Duration startTimeout,
            Duration stopGrace,
            int awaitWarm,
            double hopRatio) {
        public Settings {
            requireNonNull(jar, "jar");
            requireNonNull(config, "config");
            env = Map.copyOf(requireNonNull(env, "env"));
            requireNonNull(logDir, "logDir");
            requireNonNull(startTimeout, "startTimeout");
            requireNonNull(stopGrace, "stopGrace");
            if (hopRatio < 0 || hopRatio > 1) {
                throw new IllegalArgumentException("hopRatio: " + hopRatio + " (expected: 0 to 1)");
            }
        }
    }

    /** One node: its id, its process while up, and the last fault put on it. Guarded by the outer lock. */
    private static final class Member {
        final String id;
        GatewayProcess process;
        int starts;
        boolean up;
        Fault fault;

        Member(String id) {
            this.id = id;
        }
    }

    private final Settings settings;
    private final RedisServer redis;
    private final List<Member> members = new ArrayList<>();
    private final AtomicInteger spread = new AtomicInteger();
    private final AtomicInteger orphans = new AtomicInteger();

    /** How long a stopped node's workers may take to notice and exit. */
    static final Duration ORPHAN_WAIT = Duration.ofSeconds(10);

    private GatewayNodes(Settings settings, RedisServer redis) {
        this.settings = settings;
        this.redis = redis;
    }

    /** Starts Redis and {@code n} nodes (one after the other, each until ready and its pool warm); stops all on failure. */
    public static GatewayNodes start(Settings settings, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("nodes: " + n + " (expected: >= 1)");
        }
        RedisServer redis = RedisServer.start(settings.logDir().resolve("redis.log"));
        GatewayNodes nodes = new GatewayNodes(settings, redis);
        try {
            for (int i = 1; i <= n; i++) {
                Member m = new Member("node-" + i);
                synchronized (nodes) {
                    nodes.members.add(m);
                }
                nodes.launch(m);
            }
            return nodes;
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
    }

    /** The node ids, in order. */
    public synchronized List<String> ids() {
        return members.stream().map(m -> m.id).toList();
    }

    /** The Redis the nodes share. */
    public RedisServer redis() {
        return redis;
    }

    /**
     * Puts fault {@code kind} on node {@code id}: {@code drain} (SIGTERM, waits until it has drained
     * and exited), {@code kill} (SIGKILL, waits until it is gone) or {@code restart} (a drain). The
     * node stays down until {@link #startAgain}. Returns how long the stop took. The node's process
     * tree (its worker spawner and workers) is read before the signal; whatever of it is still alive
     * {@link #ORPHAN_WAIT} after the node exited is counted ({@link #orphans()}) and killed.
     */
    public Duration stop(String id, String kind) {
        GatewayProcess process;
        synchronized (this) {
            Member m = member(id);
            if (!m.up) {
                throw new IllegalStateException(id + " is not up");
            }
            m.up = false;
            m.fault = new Fault(kind, System.nanoTime());
            process = m.process;
            m.process = null;
        }
        List<ProcessHandle> tree = ProcessHandle.of(process.pid())
                .map(h -> h.descendants().toList())
                .orElse(List.of());
        long start = System.nanoTime();
        switch (kind) {
            case "kill" -> process.kill();
            case "drain", "restart" -> process.close();
            default -> throw new IllegalArgumentException("fault: " + kind + " (expected: drain, kill or restart)");
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        reap(id, kind, tree);
        return took;
    }

    /** Waits for the processes of a stopped node's tree to exit; counts and kills those that do not. */
    private void reap(String id, String kind, List<ProcessHandle> tree) {
        long deadline = System.nanoTime() + ORPHAN_WAIT.toNanos();
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                orphans.incrementAndGet();
                System.err.printf(
                        "%s: process %d (%s) of the node still alive %s after its %s; killed%n",
                        id, p.pid(), p.info().commandLine().orElse("?"), ORPHAN_WAIT, kind);
                p.destroyForcibly();
                p.onExit().join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }

    /** Processes of stopped nodes' trees that outlived their node by {@link #ORPHAN_WAIT} (killed then). */
    public int orphans() {
        return orphans.get();
    }

    /** Starts node {@code id} again with the same node id (a new process, a new port), until ready; returns how long it took. */
    public Duration startAgain(String id) {
        Member m;
        synchronized (this) {
            m = member(id);
            if (m.up || m.process != null) {
                throw new IllegalStateException(id + " is up");
            }
        }
        long start = System.nanoTime();
        launch(m);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** The nodes up now. */
    public synchronized List<String> upNodes() {
        return members.stream().filter(m -> m.up).map(m -> m.id).toList();
    }

    /** The gateway processes up now, by node id (for their {@code /metrics}). */
    public synchronized Map<String, GatewayProcess> processes() {
        Map<String, GatewayProcess> up = new HashMap<>();
        members.stream().filter(m -> m.up).forEach(m -> up.put(m.id, m.process));
        return up;
    }

    private void launch(Member m) {
        Map<String, String> env = new HashMap<>(settings.env());
        env.put("TETHER_NODE_ID", m.id);
        env.put("TETHER_REDIS_URI", redis.uri());
        int start;
        synchronized (this) {
            start = ++m.starts;
        }
        GatewayProcess process = GatewayProcess.launch(GatewayProcess.Launch.of(settings.jar(), settings.config())
                .withEnv(env)
                .withLogFile(settings.logDir().resolve("gateway-" + m.id + "-" + start + ".log"))
                .withAwaitReady(true)
                .withStartTimeout(settings.startTimeout())
                .withStopGrace(settings.stopGrace()));
        if (settings.awaitWarm() > 0 && !process.awaitWarm(settings.awaitWarm(), settings.startTimeout())) {
            process.close();
            throw new IllegalStateException(m.id + ": the pool did not reach " + settings.awaitWarm()
                    + " warm workers in " + settings.startTimeout());
        }
        synchronized (this) {
            m.process = process;
            m.up = true;
        }
    }

    private Member member(String id) {
        for (Member m : members) {
            if (m.id.equals(id)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no node " + id);
    }

    @Override
    public synchronized Node pick(String preferred, boolean elsewhere, int user) {
        List<Member> up = members.stream().filter(m -> m.up).toList();
        if (preferred != null && !elsewhere) {
            for (Member m : up) {
                if (m.id.equals(preferred)) {
                    return node(m);
                }
            }
        }
        List<Member> others = up.stream().filter(m -> !m.id.equals(preferred)).toList();
        if (others.isEmpty()) {
            others = up.isEmpty()
                    ? members.stream().filter(m -> m.process != null).toList()
                    : up;
        }
        if (others.isEmpty()) {
            // Every node is down for a moment: the connection fails and the user tries again.
            Member any = members.get(Math.floorMod(user, members.size()));
            return new Node(any.id, URI.create("ws://127.0.0.1:1/ws"));
        }
        // New sessions spread by user; resumes that must move also rotate, so that one node does not take them all.
        int i = preferred == null ? user : user + spread.getAndIncrement();
        return node(others.get(Math.floorMod(i, others.size())));
    }

    private static Node node(Member m) {
        return new Node(m.id, m.process.wsUri());
    }

    @Override
    public synchronized Fault lastFault(String node) {
        for (Member m : members) {
            if (m.id.equals(node)) {
                return m.fault;
            }
        }
        return null;
    }

    @Override
    public double hopRatio() {
        return settings.hopRatio();
    }

    /** The first node's endpoint (the users' initial target before the route picks). */
    @Override
    public synchronized URI wsUri() {
        return members.stream()
                .filter(m -> m.up)
                .findFirst()
                .map(m -> m.process.wsUri())
                .orElse(URI.create("ws://127.0.0.1:1/ws"));
    }

    /** The first node up's pid. */
    @Override
    public synchronized long pid() {
        return members.stream()
                .filter(m -> m.up)
                .findFirst()
                .map(m -> m.process.pid())
                .orElse(-1L);
    }

    @Override
    public synchronized String recentOutput() {
        StringBuilder out = new StringBuilder();
        for (Member m : members) {
            if (m.process != null) {
                out.append("--- ")
                        .append(m.id)
                        .append('\n')
                        .append(m.process.recentOutput())
                        .append('\n');
            }
        }
        return out.toString();
    }

    /** Stops every node (SIGTERM, drained; SIGKILL after the grace), then Redis; waits for all of them. */
    @Override
    public void close() {
        List<GatewayProcess> running = new ArrayList<>();
        List<ProcessHandle> trees = new ArrayList<>();
        synchronized (this) {
            for (Member m : members) {
                m.up = false;
                if (m.process != null) {
                    running.add(m.process);
                    ProcessHandle.of(m.process.pid())
                            .ifPresent(h -> h.descendants().forEach(trees::add));
                    m.process = null;
                }
            }
        }
        // All at once: a node draining lets its sessions go, and nobody is left to take them.
        List<Thread> stops = new ArrayList<>();
        for (GatewayProcess p : running) {
            Thread t = new Thread(p::close, "stop-node-" + p.pid());
            t.start();
            stops.add(t);
        }
        for (Thread t : stops) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        reap("nodes", "stop", trees);
        redis.close();
    }
}
