package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.baseline.BaselineServer;
import dev.tether.loadtest.client.Ending;
import dev.tether.loadtest.compare.CWorker;
import dev.tether.loadtest.compare.Websocketd;
import dev.tether.loadtest.engine.CpuMeter;
import dev.tether.loadtest.gateway.GatewayConfigFile;
import dev.tether.loadtest.gateway.GatewayNodes;
import dev.tether.loadtest.gateway.GatewayProcess;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.gateway.PrometheusText;
import dev.tether.loadtest.process.RedisServer;
import dev.tether.loadtest.process.RunningProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;

/**
 * What a run talks to: a gateway given by {@code --url}, one launched here (and stopped at the
 * end), or the raw baseline server; plus, when its pid is known, a sampler of its RSS, threads
 * and CPU. The sampler always reads the whole process tree, so that a gateway's worker
 * subprocesses count towards its memory (kept apart from the gateway JVM's own). Used on the
 * scenario's thread.
 */
final class Target implements AutoCloseable {

    private final URI uri;
    private final String kind;
    private final RunningProcess process;
    private final ProcessSampler sampler;
    private final GatewayConfigFile config;
    private final TurnModel model;
    /** The redis-server started for a launched gateway whose config says {@code sessions.store: redis}; else null. */
    private RedisServer redis;

    private Target(
            URI uri,
            String kind,
            RunningProcess process,
            ProcessSampler sampler,
            GatewayConfigFile config,
            TurnModel model) {
        this.uri = uri;
        this.kind = kind;
        this.process = process;
        this.sampler = sampler;
        this.config = config;
        this.model = model;
    }

    /**
     * {@code n} gateway nodes sharing their sessions through a Redis, all launched here
     * ({@link GatewayNodes}) with {@code derive} applied to {@code config}; no sampler (nodes come and
     * go). The users connect through the nodes' route ({@link #nodes()}).
     */
    static Target nodes(
            CommonOptions options,
            Path config,
            int n,
            int warm,
            double hopRatio,
            UnaryOperator<GatewayConfigFile> derive) {
        Path jar = launchFiles(options, config);
        GatewayConfigFile effective = derive.apply(GatewayConfigFile.read(config));
        Path written = effective.write(options.out.resolve("gateway-config.yaml"));
        GatewayNodes nodes = GatewayNodes.start(
                new GatewayNodes.Settings(
                        jar,
                        written,
                        Map.of("TETHER_JWT_SECRET", options.signingSecret()),
                        options.out,
                        Duration.ofSeconds(90),
                        Duration.ofSeconds(30),
                        warm,
                        hopRatio),
                n);
        return new Target(
                options.upgradeEndpoint(nodes.wsUri()), "gateway", nodes, null, effective, effective.turnModel());
    }

    /** The gateway jar to launch, once it and {@code config} are found to exist (else the option naming the missing one). */
    private static Path launchFiles(CommonOptions options, Path config) {
        Path jar = options.gatewayJar;
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(
                    "--gateway-jar " + jar + ": no such file (build it: mvn -q -DskipTests package)");
        }
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--gateway-config " + config + ": no such file");
        }
        return jar;
    }

    /** CPU time used so far by the redis-server started for a launched gateway; empty without one. */
    Optional<Duration> storeCpu() {
        return redis == null ? Optional.empty() : CpuMeter.processTree(redis.pid());
    }

    /** The launched nodes when there are several ({@link #nodes}), else null. */
    GatewayNodes nodes() {
        return process instanceof GatewayNodes nodes ? nodes : null;
    }

    /**
     * The gateway these options name: launched with {@code defaultConfig} unless
     * {@code --gateway-config} says otherwise, or found at {@code --url}.
     */
    static Target gateway(CommonOptions options, String defaultConfig, Duration sampleEvery) {
        return gateway(options, defaultConfig, sampleEvery, 0);
    }

    /** As above; a launched gateway is first given time until its pool holds {@code defaultWarm} warm workers. */
    static Target gateway(CommonOptions options, String defaultConfig, Duration sampleEvery, int defaultWarm) {
        return gateway(options, defaultConfig, sampleEvery, defaultWarm, UnaryOperator.identity());
    }

    /**
     * As above; a launched gateway runs {@code derive} applied to its config (written to
     * {@code <out>/gateway-config.yaml} when it changes anything). The config (of the launched gateway,
     * or {@code --gateway-config} describing the one at {@code --url}, else the gateway's defaults) tells
     * the audit how the worker answers.
     */
    static Target gateway(
            CommonOptions options,
            String defaultConfig,
            Duration sampleEvery,
            int defaultWarm,
            UnaryOperator<GatewayConfigFile> derive) {
        return gateway(options, options.gatewayConfig(defaultConfig), sampleEvery, defaultWarm, derive);
    }

    /** As above, a launched gateway with {@code config} (whatever {@code --gateway-config} says). */
    static Target gateway(CommonOptions options, Path config, Duration sampleEvery, int defaultWarm) {
        return gateway(options, config, sampleEvery, defaultWarm, UnaryOperator.identity());
    }

    private static Target gateway(
            CommonOptions options,
            Path config,
            Duration sampleEvery,
            int defaultWarm,
            UnaryOperator<GatewayConfigFile> derive) {
        if (options.launchGateway) {
            Path jar = launchFiles(options, config);
            config = withCWorker(config, options.out.resolve("c-worker"));
            GatewayConfigFile original = GatewayConfigFile.read(config);
            GatewayConfigFile effective = derive.apply(original);
            if (effective != original) {
                config = effective.write(options.out.resolve("gateway-config.yaml"));
            }
            Map<String, String> env =
                    new HashMap<>(Map.of("TETHER_PORT", "0", "TETHER_JWT_SECRET", options.signingSecret()));
            // A gateway that keeps its sessions in Redis gets a redis-server of its own, started here, and a node id.
            RedisServer redis = effective.sessionStore().equals("redis")
                    ? RedisServer.start(options.out.resolve("redis.log"))
                    : null;
            if (redis != null) {
                env.put("TETHER_REDIS_URI", redis.uri());
                env.putIfAbsent("TETHER_NODE_ID", "node-1");
            }
            GatewayProcess gateway;
            try {
                gateway = GatewayProcess.launch(GatewayProcess.Launch.of(jar, config)
                        .withEnv(env)
                        .withLogFile(options.out.resolve("gateway.log"))
                        .withAwaitReady(true)
                        .withStartTimeout(Duration.ofSeconds(90)));
            } catch (RuntimeException e) {
                if (redis != null) {
                    redis.close();
                }
                throw e;
            }
            int warm = options.awaitWarm == null ? defaultWarm : options.awaitWarm;
            if (warm > 0 && !gateway.awaitWarm(warm, Duration.ofSeconds(90))) {
                gateway.close();
                if (redis != null) {
                    redis.close();
                }
                throw new IllegalStateException("the gateway's pool did not reach " + warm + " warm workers in 90 s"
                        + " (--await-warm; lower it for a smaller pool)");
            }
            Target target = new Target(
                    options.upgradeEndpoint(gateway.wsUri()),
                    "gateway",
                    gateway,
                    sampler(gateway.pid(), sampleEvery),
                    effective,
                    effective.turnModel());
            target.redis = redis;
            return target;
        }
        ProcessSampler sampler = options.gatewayPid == null ? null : sampler(options.gatewayPid, sampleEvery);
        GatewayConfigFile described = options.gatewayConfig == null
                ? GatewayConfigFile.defaults()
                : GatewayConfigFile.read(options.gatewayConfig);
        return new Target(
                options.upgradeEndpoint(requireNonNull(options.url, "url")),
                "gateway",
                null,
                sampler,
                described,
                described.turnModel());
    }

    /** The raw baseline server, launched as its own process, streaming {@code deltas} deltas before each result. */
    static Target baseline(CommonOptions options, Duration sampleEvery, int deltas) {
        RunningProcess server = BaselineServer.launch(null, List.of(), options.out.resolve("baseline.log"), deltas);
        return new Target(
                server.wsUri(),
                "baseline",
                server,
                sampler(server.pid(), sampleEvery),
                GatewayConfigFile.defaults(),
                TurnModel.echo(deltas));
    }

    /** websocketd, launched here, running {@code command} (the C worker in its websocketd mode) per connection. */
    static Target websocketd(CommonOptions options, List<String> command, Duration sampleEvery) {
        RunningProcess server = Websocketd.launch(command, options.out.resolve("websocketd.log"));
        // The C worker answers as the demo contract says (deltas and text from data).
        return new Target(
                server.wsUri(),
                "websocketd",
                server,
                sampler(server.pid(), sampleEvery),
                GatewayConfigFile.defaults(),
                TurnModel.demo());
    }

    /**
     * {@code config} itself, or, when it names the C reference worker by its placeholder (as
     * {@code config/bench/c-worker*.yaml} do), a copy in {@code dir} with the path of the worker,
     * built there with the machine's C compiler.
     */
    private static Path withCWorker(Path config, Path dir) {
        try {
            if (!Files.readString(config).contains(CWorker.PLACEHOLDER)) {
                return config;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + config, e);
        }
        Path binary = CWorker.build(dir);
        return CWorker.gatewayConfig(config, binary, dir.resolve(config.getFileName()));
    }

    private static ProcessSampler sampler(long pid, Duration every) {
        return ProcessSampler.start(pid, new ProcessSampler.Options(every, Clock.systemUTC(), true, 0));
    }

    URI uri() {
        return uri;
    }

    /** How the target's worker answers a message: what the audit predicts. */
    TurnModel turnModel() {
        return model;
    }

    /** The target's config as far as a run needs it (for the baseline server and websocketd: the gateway's defaults, unused). */
    GatewayConfigFile config() {
        return config;
    }

    /** {@code gateway}, {@code baseline} or {@code websocketd}. */
    String kind() {
        return kind;
    }

    /**
     * The launched gateway's live sessions after the run's own were ended (waiting up to
     * {@code timeout} for none) or left (read at once); empty for a gateway not launched here, whose
     * sessions may be other clients' too, and when its {@code /metrics} cannot be read.
     */
    OptionalLong liveSessionsAfter(Ending ending, Duration timeout) {
        if (!(process instanceof GatewayProcess gateway)) {
            return OptionalLong.empty();
        }
        return ending.leave() ? gateway.liveSessions() : gateway.awaitNoSessions(timeout);
    }

    /** A launched gateway's pool's warm workers now; empty for another target or a gateway without a pool. */
    OptionalInt warmWorkers() {
        return process instanceof GatewayProcess gateway ? gateway.warmWorkers() : OptionalInt.empty();
    }

    /** Waits until a launched gateway's pool holds {@code n} warm workers, at most {@code timeout}; true when it does. */
    boolean awaitWarm(int n, Duration timeout) {
        return process instanceof GatewayProcess gateway && gateway.awaitWarm(n, timeout);
    }

    /** A launched gateway's {@code /metrics} now; empty for another target or when it does not answer. */
    Optional<PrometheusText> gatewayMetrics() {
        return process instanceof GatewayProcess gateway ? gateway.metrics() : Optional.empty();
    }

    /** The sampler, or null when the pid is unknown. */
    ProcessSampler sampler() {
        return sampler;
    }

    @Override
    public void close() {
        if (sampler != null) {
            sampler.close();
        }
        if (process != null) {
            process.close();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
