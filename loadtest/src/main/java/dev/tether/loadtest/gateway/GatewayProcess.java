package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.process.ChildProcess;
import dev.tether.loadtest.process.RunningProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/**
 * A gateway started by the load test as {@code java [jvm options] -jar gateway.jar --config FILE},
 * with the running JVM's {@code java}, {@code TETHER_PORT=0} and {@code TETHER_ADMIN_PORT=0} unless the
 * environment given says otherwise, and its output read on a thread of its own (to a log file, and the last lines kept for
 * error messages). The port comes from its {@code listening on HOST:PORT} log line.
 *
 * <p>{@link #close()} is a plain stop, not a drain: SIGTERM (which makes the gateway drain for up to
 * its {@code drain.timeout}), then after {@link Launch#stopGrace()} SIGKILL. Thread-safe.
 */
public final class GatewayProcess implements RunningProcess {

    /** The gateway's start-up line (GatewayServer); the admin listener's line is not it. */
    static final Pattern LISTENING = Pattern.compile("(?<!admin )listening on (\\S+?):(\\d+)(?:.*(TLS wss://))?");

    private final ChildProcess child;
    private final String host;
    private final int port;
    private final Launch launch;
    /** Whether it serves TLS ({@code server.tls}, as its listening line says): wss:// and https://. */
    private final boolean secure;

    private final HttpClient http;

    private GatewayProcess(ChildProcess child, String host, int port, boolean secure, Launch launch) {
        this.child = child;
        this.host = host;
        this.port = port;
        this.secure = secure;
        this.launch = launch;
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        if (secure) {
            // Only /readyz and /metrics of the gateway this process just launched on loopback; the
            // WebSocket traffic trusts what --ca-file or --insecure say.
            http.sslContext(trustingAnyCertificate());
        }
        this.http = http.build();
    }

    private static javax.net.ssl.SSLContext trustingAnyCertificate() {
        try {
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * How to start a gateway. Build with {@link #of(Path, Path)} and the {@code with...} methods.
     *
     * @param jar {@code gateway/target/gateway.jar}
     * @param config its {@code --config} file, or null for the gateway's own default
     * @param env variables added to this process's environment ({@code TETHER_PORT} defaults to 0)
     * @param jvmOptions options before {@code -jar}, e.g. {@code -Xmx512m}
     * @param logFile where its output goes, or null to keep only the last lines
     * @param startTimeout how long to wait for the listening line (and readiness, when asked)
     * @param awaitReady wait until {@code /readyz} answers 200 before returning
     * @param stopGrace how long {@link #close()} waits after SIGTERM before killing
     */
    public record Launch(
            Path jar,
            Path config,
            Map<String, String> env,
            List<String> jvmOptions,
            Path logFile,
            Duration startTimeout,
            boolean awaitReady,
            Duration stopGrace) {
        public Launch {
            requireNonNull(jar, "jar");
            env = Map.copyOf(requireNonNull(env, "env"));
            jvmOptions = List.copyOf(requireNonNull(jvmOptions, "jvmOptions"));
            requireNonNull(startTimeout, "startTimeout");
            requireNonNull(stopGrace, "stopGrace");
        }

        /** {@code jar} with {@code config}, no extra environment or options, 60 s to start, 30 s to stop. */
        public static Launch of(Path jar, Path config) {
            return new Launch(
                    jar, config, Map.of(), List.of(), null, Duration.ofSeconds(60), false, Duration.ofSeconds(30));
        }

        public Launch withEnv(Map<String, String> value) {
            return new Launch(jar, config, value, jvmOptions, logFile, startTimeout, awaitReady, stopGrace);
        }

        public Launch withJvmOptions(List<String> value) {
            return new Launch(jar, config, env, value, logFile, startTimeout, awaitReady, stopGrace);
        }

        public Launch withLogFile(Path value) {
            return new Launch(jar, config, env, jvmOptions, value, startTimeout, awaitReady, stopGrace);
        }

        public Launch withStartTimeout(Duration value) {
            return new Launch(jar, config, env, jvmOptions, logFile, value, awaitReady, stopGrace);
        }

        public Launch withAwaitReady(boolean value) {
            return new Launch(jar, config, env, jvmOptions, logFile, startTimeout, value, stopGrace);
        }

        public Launch withStopGrace(Duration value) {
            return new Launch(jar, config, env, jvmOptions, logFile, startTimeout, awaitReady, value);
        }
    }

    /** Starts {@code jar} with {@code config} and {@code env}, and waits up to {@code startTimeout} until it listens. */
    public static GatewayProcess launch(Path jar, Path config, Map<String, String> env, Duration startTimeout) {
        return launch(Launch.of(jar, config).withEnv(env).withStartTimeout(startTimeout));
    }

    /**
     * Starts a gateway as {@code launch} says and waits until it listens (and, with
     * {@link Launch#awaitReady()}, until {@code /readyz} answers 200).
     *
     * @throws IllegalStateException with the gateway's last output when it does not start in time
     */
    public static GatewayProcess launch(Launch launch) {
        requireNonNull(launch, "launch");
        List<String> command = new ArrayList<>();
        command.add(ChildProcess.javaLauncher(null));
        command.addAll(launch.jvmOptions());
        command.add("-jar");
        command.add(launch.jar().toString());
        if (launch.config() != null) {
            command.add("--config");
            command.add(launch.config().toString());
        }
        Map<String, String> env = new HashMap<>();
        env.put("TETHER_PORT", "0");
        // Its admin listener too, so a launched gateway never collides with one already running here.
        env.put("TETHER_ADMIN_PORT", "0");
        env.putAll(launch.env());
        long deadline = System.nanoTime() + launch.startTimeout().toNanos();
        ChildProcess child = ChildProcess.start(command, env, launch.logFile(), LISTENING);
        var match = child.awaitLine(launch.startTimeout());
        GatewayProcess gateway = new GatewayProcess(
                child, connectHost(match.group(1)), Integer.parseInt(match.group(2)), match.group(3) != null, launch);
        if (launch.awaitReady()) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            if (!gateway.awaitReady(left)) {
                gateway.close();
                throw new IllegalStateException("the gateway did not become ready within " + launch.startTimeout()
                        + "; its last output:\n" + gateway.recentOutput());
            }
        }
        return gateway;
    }

    @Override
    public URI wsUri() {
        return URI.create((secure ? "wss://" : "ws://") + host + ":" + port + "/ws");
    }

    /** The base of the plain HTTP endpoints next to the WebSocket ({@code /readyz}, {@code /metrics}). */
    public URI httpUri() {
        return URI.create((secure ? "https://" : "http://") + host + ":" + port);
    }

    public int port() {
        return port;
    }

    @Override
    public long pid() {
        return child.pid();
    }

    public boolean isAlive() {
        return child.isAlive();
    }

    @Override
    public String recentOutput() {
        return child.recentOutput();
    }

    /** Polls {@code /readyz} until it answers 200 or {@code timeout} passes; true when ready. */
    public boolean awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            if (get("/readyz").map(r -> r.statusCode() == 200).orElse(false)) {
                return true;
            }
        } while (pause(deadline));
        return false;
    }

    /**
     * Polls {@code /metrics} until the pool holds at least {@code minWarm} warm workers or
     * {@code timeout} passes; true when it does. False at once for a gateway without a pool.
     */
    public boolean awaitWarm(int minWarm, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            OptionalInt warm = warmWorkers();
            if (warm.isPresent() && warm.getAsInt() >= minWarm) {
                return true;
            }
        } while (pause(deadline));
        return false;
    }

    /** The pool's warm workers now, from {@code /metrics}; empty when unknown (no pool, no answer). */
    public OptionalInt warmWorkers() {
        return metrics().map(GatewayProcess::warmGauge).orElse(OptionalInt.empty());
    }

    /** Reads the warm-workers gauge out of Prometheus text. */
    static OptionalInt warmGauge(PrometheusText metrics) {
        OptionalDouble warm = metrics.value("tether_pool_workers", "state", "warm");
        return warm.isPresent() ? OptionalInt.of((int) warm.getAsDouble()) : OptionalInt.empty();
    }

    /** The gateway's live sessions now (its {@code tether_sessions} gauges, every state); empty when unknown. */
    public OptionalLong liveSessions() {
        return metrics().map(GatewayProcess::liveSessions).orElse(OptionalLong.empty());
    }

    /** The live sessions in Prometheus text: the sum of {@code tether_sessions} over its states. */
    static OptionalLong liveSessions(PrometheusText metrics) {
        OptionalDouble live = metrics.sum("tether_sessions");
        return live.isPresent() ? OptionalLong.of(Math.round(live.getAsDouble())) : OptionalLong.empty();
    }

    /**
     * Polls {@code /metrics} until the gateway has no live session or {@code timeout} passes; the
     * last count read, empty when it could not be read at all.
     */
    public OptionalLong awaitNoSessions(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        OptionalLong live;
        do {
            live = liveSessions();
            if (live.isPresent() && live.getAsLong() == 0) {
                return live;
            }
        } while (pause(deadline));
        return live;
    }

    /** The gateway's {@code /metrics} now, parsed; empty when it does not answer 200. */
    public Optional<PrometheusText> metrics() {
        return get("/metrics").filter(r -> r.statusCode() == 200).map(r -> PrometheusText.parse(r.body()));
    }

    /** SIGTERM, up to {@link Launch#stopGrace()} for the drain, then SIGKILL; waits until it has exited. */
    @Override
    public void close() {
        child.stop(launch.stopGrace());
    }

    /** SIGKILL at once, no drain (a node that dies); waits until it has exited. */
    public void kill() {
        child.kill();
    }

    private Optional<HttpResponse<String>> get(String path) {
        HttpRequest request = HttpRequest.newBuilder(httpUri().resolve(path))
                .timeout(Duration.ofSeconds(2))
                .GET()
                .build();
        try {
            return Optional.of(http.send(request, HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Waits a little unless the deadline has passed or the thread is interrupted; false to stop polling. */
    private boolean pause(long deadline) {
        if (System.nanoTime() >= deadline
                || !child.isAlive()
                || Thread.currentThread().isInterrupted()) {
            return false;
        }
        LockSupport.parkNanos(Math.min(Duration.ofMillis(50).toNanos(), Math.max(0, deadline - System.nanoTime())));
        return true;
    }

    /** A wildcard bind address is reached through the loopback. */
    private static String connectHost(String bound) {
        return switch (bound) {
            case "0.0.0.0", "::", "[::]", "*" -> "127.0.0.1";
            default -> bound.contains(":") && !bound.startsWith("[") ? "[" + bound + "]" : bound;
        };
    }
}
