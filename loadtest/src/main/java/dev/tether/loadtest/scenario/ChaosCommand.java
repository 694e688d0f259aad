package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.UserChaos;
import dev.tether.loadtest.gateway.GatewayConfigFile;
import dev.tether.loadtest.gateway.GatewayNodes;
import dev.tether.loadtest.report.ReportBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chaos}: steady traffic the audit can predict while every user's connection fails in the
 * ways networks and clients fail, and the audit must find every event exactly once. Each message
 * has its own text and asks the worker for a known stream ({@link ChaosTraffic}); the disruptions
 * ({@link Disruptions}) are cuts clean, abrupt and half-open, aimed mid-turn or not, time away up
 * to past the reconnect window, resumes racing, cut during their handshake or their replay, going
 * back below what was processed; plus resends under the same and fresh ids, worker kills and, on
 * request, a replay buffer small enough to lose events. Each is a flag; the defaults are a mix
 * sized from the gateway's own config (reconnect window, heartbeat).
 *
 * <p>With {@code --nodes N} (N >= 2) it starts a redis-server and N gateway nodes sharing their
 * sessions ({@link GatewayNodes}), spreads the users over them, sends a share of resumes to another
 * node on purpose (live hand-offs) and drains, kills and restarts nodes while the traffic runs
 * ({@link NodeFaults}); the audit holds across the nodes, and hand-off and adoption times are
 * measured ({@code handoff_*}, {@code drain_to_ready}, {@code kill_to_ready}).
 */
@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Traffic the audit can predict while connections are cut (clean, abrupt, half-open), resumed (after time away,"
                    + " racing, cut in the handshake or the replay, below last_seq), messages resent and workers killed.",
            "With --nodes N: N gateway nodes sharing their sessions through a redis-server, drained, killed and restarted"
                    + " while the traffic runs.",
            "Defaults: --sessions 20 --rate 200 --duration 60s; --launch-gateway uses config/bench/chaos.yaml"
                    + " (config/bench/chaos-demo.yaml with --kill-workers, config/bench/chaos-nodes.yaml with --nodes)."
        })
public final class ChaosCommand extends ScenarioCommand {

    static final String CONFIG = "config/bench/chaos.yaml";
    static final String CONFIG_PROCESS = "config/bench/chaos-demo.yaml";
    static final String CONFIG_NODES = "config/bench/chaos-nodes.yaml";
    private static final List<String> NODE_FAULTS = List.of("drain", "kill", "restart");

    @Option(
            names = "--cut-interval",
            converter = Durations.class,
            defaultValue = "3s",
            description =
                    "mean time between two cuts of one user (exponentially distributed) (default: ${DEFAULT-VALUE})")
    Duration cutInterval;

    @Option(
            names = "--abrupt-ratio",
            defaultValue = "0.5",
            description =
                    "of the cuts that close the connection, the share that are TCP resets rather than close frames (default: ${DEFAULT-VALUE})")
    double abruptRatio;

    @Option(
            names = "--half-open-ratio",
            description =
                    "share of cuts that leave the connection half-open (a black hole, or a client that stops reading), so that"
                            + " the gateway's heartbeat must find it; the user comes back 2-3 s after heartbeat.timeout + interval"
                            + " (default: 0.1 when that time away is at most 15 s, else 0)")
    Double halfOpenRatio;

    @Option(
            names = "--aim-ratio",
            defaultValue = "0.7",
            description =
                    "share of cuts that wait (up to 1 s) for a turn's next delta, so that the rest of the turn crosses the cut"
                            + " (default: ${DEFAULT-VALUE})")
    double aimRatio;

    @Option(
            names = "--offline-max",
            converter = Durations.class,
            description =
                    "longest time away before an ordinary resume, uniform from 0 (default: a third of the reconnect window, at most 2s)")
    Duration offlineMax;

    @Option(
            names = "--expire-ratio",
            description =
                    "share of cuts after which the user stays away 1-2 s longer than the reconnect window: the resume must come back"
                            + " session_expired and a new session starts (default: 0.03 when the window is at most 30 s, else 0)")
    Double expireRatio;

    @Option(
            names = "--handshake-cut-ratio",
            defaultValue = "0.1",
            description =
                    "share of resumes whose first handshake is reset, after the request or at the gateway's answer (default: ${DEFAULT-VALUE})")
    double handshakeCutRatio;

    @Option(
            names = "--replay-cut-ratio",
            defaultValue = "0.1",
            description =
                    "share of resumes cut again right after the first replayed event, while more are due (default: ${DEFAULT-VALUE})")
    double replayCutRatio;

    @Option(
            names = "--race-ratio",
            defaultValue = "0.1",
            description =
                    "share of resumes made by --racers connections at once; exactly one must win (default: ${DEFAULT-VALUE})")
    double raceRatio;

    @Option(
            names = "--racers",
            defaultValue = "3",
            description = "connections in a racing resume (default: ${DEFAULT-VALUE})")
    int racers;

    @Option(
            names = "--rewind-max",
            defaultValue = "16",
            description =
                    "resume with last_seq 1 to this many seqs below what was processed, so that replays re-send seen events to"
                            + " compare; acks trail by as much (default: ${DEFAULT-VALUE}; 0: never)")
    int rewindMax;

    @Option(
            names = "--resend-ratio",
            defaultValue = "0.05",
            description =
                    "share of messages sent again under the same id once accepted: must be answered duplicate and never run twice"
                            + " (default: ${DEFAULT-VALUE})")
    double resendRatio;

    @Option(
            names = "--fresh-resend-ratio",
            defaultValue = "0.02",
            description =
                    "share of messages sent again under a fresh id: a new message, run again (default: ${DEFAULT-VALUE})")
    double freshResendRatio;

    @Option(
            names = "--kill-workers",
            defaultValue = "0",
            description =
                    "share of messages that ask the demo worker to crash after 0..N of their deltas (needs process workers)"
                            + " (default: ${DEFAULT-VALUE})")
    double killWorkers;

    @Option(
            names = "--deltas",
            defaultValue = "4",
            description =
                    "deltas each message asks a demo-contract worker for (the echo worker streams its configured number)"
                            + " (default: ${DEFAULT-VALUE})")
    int deltas;

    @Option(
            names = "--delta-delay",
            converter = Durations.class,
            defaultValue = "10ms",
            description = "pause a demo-contract worker makes after each delta (delay_ms) (default: ${DEFAULT-VALUE})")
    Duration deltaDelay;

    @Option(
            names = "--replay-buffer",
            description =
                    "with --launch-gateway: run the gateway with sessions.replay_max_messages set to this, so that replays"
                            + " evict and lose events on purpose (needs --allow-gaps)")
    Integer replayBuffer;

    @Option(
            names = "--allow-gaps",
            description =
                    "events the gateway reports lost (replay_gap) are expected: listed with their ranges and the messages they"
                            + " hit instead of failing the run")
    boolean allowGaps;

    @Option(
            names = "--nodes",
            defaultValue = "1",
            description =
                    "with --launch-gateway: start a redis-server and this many gateway nodes sharing their sessions"
                            + " (config/bench/chaos-nodes.yaml: sessions.store redis, demo workers), spread the users over them and put"
                            + " --node-faults on them (default: ${DEFAULT-VALUE})")
    int nodes;

    @Option(
            names = "--node-faults",
            split = ",",
            defaultValue = "drain,kill,restart",
            description =
                    "with --nodes: the faults put on the nodes in turn, each on the next node: drain (SIGTERM; started again"
                            + " after --node-down), kill (SIGKILL; started again after --node-down), restart (SIGTERM, started again at"
                            + " once) (default: ${DEFAULT-VALUE})")
    List<String> nodeFaults;

    @Option(
            names = "--node-fault-interval",
            converter = Durations.class,
            defaultValue = "10s",
            description =
                    "with --nodes: time from a faulted node being up again to the next fault (default: ${DEFAULT-VALUE})")
    Duration nodeFaultInterval;

    @Option(
            names = "--node-down",
            converter = Durations.class,
            defaultValue = "2s",
            description = "with --nodes: how long a drained or killed node stays down (default: ${DEFAULT-VALUE})")
    Duration nodeDown;

    @Option(
            names = "--min-node-faults",
            defaultValue = "0",
            description =
                    "with --nodes: the run does not end before this many node faults were put and their nodes are up again"
                            + " (waiting at most 2 min after the traffic; then an error) (default: ${DEFAULT-VALUE})")
    int minNodeFaults;

    @Option(
            names = "--hop-ratio",
            defaultValue = "0.05",
            description =
                    "with --nodes: share of resumes sent to another node while the session's node is up (a live hand-off)"
                            + " (default: ${DEFAULT-VALUE})")
    double hopRatio;

    @Option(
            names = "--write-mode",
            description =
                    "with --nodes: sessions.redis.write_mode, before_send or batched (batched needs --allow-gaps: a killed"
                            + " node's successor names what it lacks in replay_gap) (default: the config's)")
    String writeMode;

    @Option(
            names = "--lease",
            converter = Durations.class,
            description = "with --nodes: sessions.redis.lease (default: the config's, 2s in " + CONFIG_NODES + ")")
    Duration lease;

    @Override
    void validate() {
        validateNodes();
        positive("--cut-interval", cutInterval);
        for (Map.Entry<String, Double> share : Map.of(
                        "--abrupt-ratio",
                        abruptRatio,
                        "--aim-ratio",
                        aimRatio,
                        "--handshake-cut-ratio",
                        handshakeCutRatio,
                        "--replay-cut-ratio",
                        replayCutRatio,
                        "--race-ratio",
                        raceRatio,
                        "--resend-ratio",
                        resendRatio,
                        "--fresh-resend-ratio",
                        freshResendRatio,
                        "--kill-workers",
                        killWorkers,
                        "--half-open-ratio",
                        halfOpenRatio == null ? 0 : halfOpenRatio,
                        "--expire-ratio",
                        expireRatio == null ? 0 : expireRatio)
                .entrySet()) {
            if (share.getValue() < 0 || share.getValue() > 1) {
                throw new IllegalArgumentException(share.getKey() + ": " + share.getValue() + " (expected: 0 to 1)");
            }
        }
        if ((halfOpenRatio == null ? 0 : halfOpenRatio) + (expireRatio == null ? 0 : expireRatio) > 1) {
            throw new IllegalArgumentException("--half-open-ratio + --expire-ratio: more than 1");
        }
        if (racers < 2) {
            throw new IllegalArgumentException("--racers: " + racers + " (expected: >= 2)");
        }
        if (rewindMax < 0 || deltas < 0) {
            throw new IllegalArgumentException("--rewind-max and --deltas: expected >= 0");
        }
        if (offlineMax != null && offlineMax.isNegative()) {
            throw new IllegalArgumentException("--offline-max: " + offlineMax + " (expected: >= 0)");
        }
        if (deltaDelay.isNegative()) {
            throw new IllegalArgumentException("--delta-delay: " + deltaDelay + " (expected: >= 0)");
        }
        if (replayBuffer != null && (replayBuffer < 1 || !common.launchGateway || !allowGaps)) {
            throw new IllegalArgumentException(
                    "--replay-buffer " + replayBuffer + ": needs a value >= 1, --launch-gateway and"
                            + " --allow-gaps (a buffer that small loses events on purpose)");
        }
        if (common.messageData != null) {
            throw new IllegalArgumentException(
                    "--message-data: chaos makes each message's data itself (see --deltas, --payload-bytes)");
        }
        if (killWorkers > 0 && common.launchGateway) {
            Path config = common.gatewayConfig(CONFIG_PROCESS);
            if (Files.isRegularFile(config)
                    && GatewayConfigFile.read(config).workerKind().equals("echo")) {
                throw new IllegalArgumentException(
                        "--kill-workers: " + config + " runs the in-process echo worker, which cannot be killed"
                                + " (use process workers, e.g. " + CONFIG_PROCESS + ")");
            }
        }
    }

    private void validateNodes() {
        if (nodes < 1) {
            throw new IllegalArgumentException("--nodes: " + nodes + " (expected: >= 1)");
        }
        boolean several = nodes >= 2;
        if (several && !common.launchGateway) {
            throw new IllegalArgumentException("--nodes " + nodes
                    + ": needs --launch-gateway (the nodes and their redis-server are" + " started here)");
        }
        if (!several && (writeMode != null || lease != null)) {
            throw new IllegalArgumentException("--write-mode and --lease: need --nodes 2 or more");
        }
        for (String fault : nodeFaults) {
            if (!NODE_FAULTS.contains(fault)) {
                throw new IllegalArgumentException(
                        "--node-faults: " + fault + " (expected: some of " + String.join(",", NODE_FAULTS) + ")");
            }
        }
        positive("--node-fault-interval", nodeFaultInterval);
        if (nodeDown.isNegative() || hopRatio < 0 || hopRatio > 1 || minNodeFaults < 0) {
            throw new IllegalArgumentException(
                    "--node-down and --min-node-faults: expected >= 0; --hop-ratio: expected 0 to 1");
        }
        if (writeMode != null && !writeMode.equals("before_send") && !writeMode.equals("batched")) {
            throw new IllegalArgumentException("--write-mode: " + writeMode + " (expected: before_send or batched)");
        }
        if ("batched".equals(writeMode) && !allowGaps) {
            throw new IllegalArgumentException(
                    "--write-mode batched: needs --allow-gaps (a killed node's successor names the seqs it"
                            + " lacks in replay_gap, by design)");
        }
    }

    /** The launched nodes' config: as the file says, with --write-mode, --lease and --replay-buffer applied. */
    private GatewayConfigFile nodeConfig(GatewayConfigFile config) {
        GatewayConfigFile c =
                replayBuffer == null ? config : config.with("sessions", "replay_max_messages", replayBuffer);
        if (writeMode != null) {
            c = c.with("sessions.redis.write_mode", writeMode);
        }
        if (lease != null) {
            c = c.with("sessions.redis.lease", lease.toMillis() + "ms");
        }
        return c;
    }

    private static void positive(String option, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(option + ": " + value + " (expected: > 0)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        String defaultConfig = killWorkers > 0 ? CONFIG_PROCESS : CONFIG;
        try (Target target = nodes >= 2
                ? Target.nodes(
                        common,
                        common.gatewayConfig(CONFIG_NODES),
                        nodes,
                        common.awaitWarm == null ? 0 : common.awaitWarm,
                        hopRatio,
                        this::nodeConfig)
                : Target.gateway(
                        common,
                        defaultConfig,
                        Duration.ofSeconds(1),
                        0,
                        config -> replayBuffer == null
                                ? config
                                : config.with("sessions", "replay_max_messages", replayBuffer))) {
            GatewayConfigFile config = target.config();
            boolean known = config.path() != null;
            Disruptions.Mix mix = mix(config, known);
            TurnModel model = target.turnModel();
            UserChaos userChaos = new UserChaos(
                    rewindMax, resendRatio, freshResendRatio, known ? config.reconnectWindow() : null, common.seed);
            Traffic.Plan plan = new Traffic.Plan(
                    "chaos",
                    common.sessions(20),
                    common.rate(200),
                    common.warmup,
                    common.duration(Duration.ofSeconds(60)),
                    true,
                    true,
                    Duration.ofHours(1),
                    allowGaps,
                    userChaos);
            System.err.printf("chaos: worker %s; %s%n", model, mix);
            Disruptions cutter = new Disruptions(cutInterval, mix, common.seed);
            ChaosTraffic traffic =
                    new ChaosTraffic(model, deltas, deltaDelay, killWorkers, common.payloadBytes, common.seed);
            NodeFaults faults = target.nodes() == null
                    ? null
                    : new NodeFaults(target.nodes(), nodeFaults, nodeFaultInterval, nodeDown, minNodeFaults);
            if (faults != null) {
                System.err.printf(
                        "chaos: %d nodes %s sharing %s (write_mode %s, lease %d ms); faults %s every %s, down %s%n",
                        nodes,
                        target.nodes().ids(),
                        target.nodes().redis().uri(),
                        config.redisWriteMode(),
                        config.redisLease().toMillis(),
                        nodeFaults,
                        nodeFaultInterval,
                        nodeDown);
            }
            Traffic.Result result =
                    Traffic.run(common, plan, target, traffic, faults == null ? cutter : cutter.and(faults));
            RunStats stats = result.stats();
            if (faults != null && target.nodes().orphans() > 0) {
                // A stopped node's workers outlived it: counted as an error, the report rebuilt with it.
                stats.error("node_orphans");
                result.report().stats(stats, Durations.seconds(plan.warmup().plus(plan.duration())));
            }
            long halfOpen = stats.counter("cuts_blackhole") + stats.counter("cuts_stall");
            if (halfOpen >= 3 && stats.counter("half_open_found") == 0) {
                // Not one half-open connection closed before its user came back: no heartbeat at work.
                stats.error("half_open_never_found");
                result.report().stats(stats, Durations.seconds(plan.warmup().plus(plan.duration())));
            }
            Map<String, Object> options = optionValues(plan);
            options.put("half-open-ratio", mix.halfOpen());
            options.put("expire-ratio", mix.expire());
            options.put("offline-max", mix.offlineMax().toString());
            ReportBuilder report = result.report().options(options);
            report.section("chaos", section(result.stats(), result.audit(), mix, config, model));
            if (faults != null) {
                report.section("nodes", nodesSection(result.stats(), faults, config, target.nodes()));
            }
            return report.build();
        }
    }

    /** The flags as they apply to this gateway: the automatic ones sized from its reconnect window and heartbeat. */
    private Disruptions.Mix mix(GatewayConfigFile config, boolean known) {
        Duration window = config.reconnectWindow();
        Duration halfOpenAway =
                config.heartbeatTimeout().plus(config.heartbeatInterval()).plusMillis(2000);
        double halfOpen = halfOpenRatio != null
                ? halfOpenRatio
                : known && halfOpenAway.plusSeconds(1).compareTo(Duration.ofSeconds(15)) <= 0 ? 0.1 : 0;
        // The gateway may detach a half-open connection as early as timeout - interval after the cut.
        if (halfOpen > 0
                && window.compareTo(config.heartbeatInterval().multipliedBy(2).plusSeconds(3)) <= 0) {
            System.err.printf(
                    "chaos: half-open users stay away up to %d ms: with a reconnect window of %d ms some of their"
                            + " sessions may expire%n",
                    halfOpenAway.plusSeconds(1).toMillis(), window.toMillis());
        }
        double expire = expireRatio != null
                ? expireRatio
                : known && window.plusSeconds(2).compareTo(Duration.ofSeconds(30)) <= 0 ? 0.03 : 0;
        if (expire > 0 && !known) {
            throw new IllegalArgumentException(
                    "--expire-ratio: the gateway's reconnect window is unknown: give its --gateway-config");
        }
        Duration away = offlineMax != null
                ? offlineMax
                : window.dividedBy(3).compareTo(Duration.ofSeconds(2)) < 0
                        ? window.dividedBy(3)
                        : Duration.ofSeconds(2);
        return new Disruptions.Mix(
                abruptRatio,
                halfOpen,
                halfOpenAway,
                aimRatio,
                away,
                expire,
                window,
                handshakeCutRatio,
                replayCutRatio,
                raceRatio,
                racers,
                rewindMax);
    }

    /** The {@code nodes} section: the nodes, their store, the faults put on them, and what the users made of them. */
    private ObjectNode nodesSection(RunStats stats, NodeFaults faults, GatewayConfigFile config, GatewayNodes nodes) {
        List<String> ids = nodes.ids();
        int nodesOrphans = nodes.orphans();
        ObjectNode node = ReportBuilder.object()
                .put("nodes", ids.size())
                .put("write_mode", config.redisWriteMode())
                .put("lease_ms", config.redisLease().toMillis());
        for (String kind : NODE_FAULTS) {
            node.put("faults_" + kind, faults.count(kind));
        }
        for (String counter : new String[] {
            "handoffs",
            "hops",
            "node_lost_connections",
            "node_shutting_down",
            "resume_node_lost",
            "notice_session_moved",
            "notice_worker_restarted"
        }) {
            node.put(counter, stats.counter(counter));
        }
        node.put("orphans_after_stop", nodesOrphans);
        node.set("faults", faults.toJson());
        return node;
    }

    /** The {@code chaos} section: what each flag did, and what crossed the cuts. */
    private ObjectNode section(
            RunStats stats, AuditSummary audit, Disruptions.Mix mix, GatewayConfigFile config, TurnModel model) {
        ObjectNode node = ReportBuilder.object();
        for (String counter : new String[] {
            "cuts",
            "cuts_clean",
            "cuts_abrupt",
            "cuts_blackhole",
            "cuts_stall",
            "cuts_aimed",
            "cuts_aim_missed",
            "cuts_handshake",
            "cuts_during_replay",
            "cuts_skipped",
            "cuts_caught_up",
            "cuts_replaying_new",
            "resumes",
            "drops",
            "races",
            "racers",
            "race_lost",
            "rewinds",
            "half_open_found",
            "half_open_found_after_resume",
            "sessions_expired",
            "sessions_restarted",
            "messages_expired",
            "resent",
            "resent_same_id",
            "resent_fresh_id",
            "accepted_duplicate",
            "worker_kills",
            "replaced_by_cut_connection",
            "half_open_not_found_before_resume"
        }) {
            node.put(counter, stats.counter(counter));
        }
        long cuts = stats.counter("cuts");
        long connections = audit.sessions() + stats.counter("resumes");
        node.put("connections", connections)
                .put("cut_share", connections == 0 ? 0 : (double) cuts / connections)
                .put("replaying_share", cuts == 0 ? 0 : (double) stats.counter("cuts_replaying_new") / cuts)
                .put("events_replayed_new", audit.replayedNew())
                .put("events_replayed_seen", audit.replayedSeen())
                .put("expiries_planned", stats.counter("expiries_planned"))
                .put("worker", model.toString())
                .put("reconnect_window_s", Durations.seconds(mix.window()))
                .put(
                        "heartbeat",
                        config.heartbeatInterval().toMillis() + "ms/"
                                + config.heartbeatTimeout().toMillis() + "ms")
                .put("replay_max_messages", config.replayMaxMessages());
        return node;
    }
}
