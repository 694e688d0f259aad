package dev.tether.loadtest.scenario;

import dev.tether.loadtest.client.Ending;
import dev.tether.loadtest.token.FileTokens;
import dev.tether.loadtest.token.HmacTokenMinter;
import dev.tether.loadtest.token.TokenSource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options every scenario shares (a picocli mixin): where the gateway is (or how to launch
 * it), how many sessions at what rate for how long, where tokens come from and where the report
 * goes. Filled in by picocli on the main thread, read-only afterwards.
 */
public final class CommonOptions {

    /** The embedded development secret of {@code config/gateway.yaml}: public, like the file. */
    static final String DEV_SECRET = "tether-dev-secret-do-not-use-in-production-0123456789";

    @Option(
            names = "--url",
            defaultValue = "ws://127.0.0.1:8080/ws",
            description =
                    "WebSocket endpoint of a running gateway (default: ${DEFAULT-VALUE}); ignored with --launch-gateway")
    URI url;

    @Option(
            names = "--ca-file",
            description =
                    "PEM CA certificate(s) that wss:// targets' certificates are checked against (default: the JVM's CAs)")
    Path caFile;

    @Option(
            names = "--insecure",
            description =
                    "on wss:// targets, accept any certificate for any host name (a test gateway with a throw-away certificate)")
    boolean insecure;

    @Option(
            names = "--launch-gateway",
            description =
                    "start the gateway from --gateway-jar with --gateway-config on a free port, sample it, stop it at the end")
    boolean launchGateway;

    @Option(
            names = "--gateway-jar",
            defaultValue = "gateway/target/gateway.jar",
            description = "(default: ${DEFAULT-VALUE})")
    Path gatewayJar;

    @Option(
            names = "--gateway-config",
            description =
                    "config for --launch-gateway (default: the scenario's, e.g. config/bench/echo.yaml);"
                            + " with --url, the config of that gateway, read for what the audit must know (the worker, the reconnect window, the heartbeat)")
    Path gatewayConfig;

    @Option(
            names = "--await-warm",
            description =
                    "with --launch-gateway, wait until the pool has this many warm workers before starting (default: 10 for connect and resume, else 0)")
    Integer awaitWarm;

    @Option(
            names = "--gateway-pid",
            description = "pid of a gateway you started on this machine, to sample its RSS, threads and CPU")
    Long gatewayPid;

    @Option(names = "--sessions", description = "virtual users, one session each (default: the scenario's)")
    Integer sessions;

    @Option(
            names = "--duration",
            converter = Durations.class,
            description = "measured time, after the warm-up (default: the scenario's)")
    Duration duration;

    @Option(
            names = "--warmup",
            converter = Durations.class,
            defaultValue = "5s",
            description = "time before the measurement whose samples are left out (default: ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(
            names = "--rate",
            description = "messages per second offered in total, spread over the sessions (default: the scenario's)")
    Double rate;

    @Option(
            names = "--connect-rate",
            description = "sessions opened per second at the start (default: 200; connect: 5)")
    Double connectRate;

    @Option(
            names = "--payload-bytes",
            defaultValue = "32",
            description = "length of each message's text (default: ${DEFAULT-VALUE})")
    int payloadBytes;

    @Option(
            names = "--message-data",
            description =
                    "each message's data as JSON instead of a text of --payload-bytes, e.g. '{\"text\":\"hi\",\"delay_ms\":0}' for the demo worker")
    String messageData;

    @Option(
            names = "--secret",
            defaultValue = "${env:TETHER_JWT_SECRET}",
            showDefaultValue = CommandLine.Help.Visibility.NEVER,
            description =
                    "HMAC secret to mint HS256 tokens (default: $TETHER_JWT_SECRET, else the development secret of config/gateway.yaml)")
    String secret;

    /** The secret made for a launched gateway when none was given; see {@link #signingSecret()}. */
    private String runSecret;

    @Option(names = "--tokens-file", description = "read tokens from this file, one per line, instead of minting")
    Path tokensFile;

    @Option(
            names = "--token-ttl",
            converter = Durations.class,
            description = "lifetime of minted tokens (default: 1h; refresh: 20s)")
    Duration tokenTtl;

    @Option(
            names = "--subject-prefix",
            defaultValue = "lt-user-",
            description =
                    "user i has subject <prefix><i>, so per-user session limits apply per virtual user (default: ${DEFAULT-VALUE})")
    String subjectPrefix;

    @Option(
            names = "--out",
            defaultValue = "loadtest-report",
            description = "directory for report.json, report.txt and report.html (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(
            names = "--seed",
            defaultValue = "1",
            description = "seed of every random choice (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(
            names = "--no-progress",
            description = "no live progress bar (without a terminal it is a plain line every 5 s)")
    boolean noProgress;

    @Option(
            names = "--drain-timeout",
            converter = Durations.class,
            defaultValue = "15s",
            description = "after the run, how long to wait for answers still in flight (default: ${DEFAULT-VALUE})")
    Duration drainTimeout;

    @Option(
            names = "--client-warmup",
            defaultValue = "3",
            description =
                    "before measuring, open this many real sessions at once and end them, so that the client's own start-up"
                            + " (Tyrus, token minting, JSON) is not timed as ready_warm; a launched gateway's pool is then given time to refill"
                            + " (default: ${DEFAULT-VALUE}; 0: none)")
    int clientWarmup;

    @Option(
            names = "--leave-sessions",
            description =
                    "at the end, leave every session open (detached, resumable until the gateway's reconnect window ends)"
                            + " instead of ending it with end; for a later resume of the same sessions")
    boolean leaveSessions;

    @Option(
            names = "--end-timeout",
            converter = Durations.class,
            defaultValue = "15s",
            description = "at the end, how long to wait for the gateway to close every session ended with end;"
                    + " those that do not close in time count as errors (default: ${DEFAULT-VALUE})")
    Duration endTimeout;

    @Option(
            names = "--ack-every",
            defaultValue = "64",
            description = "send ack after this many new seqs (default: ${DEFAULT-VALUE})")
    int ackEvery;

    @Option(
            names = "--batch",
            description = "ask a gateway for batched delivery: batch=<ms> on every upgrade URL, new sessions and"
                    + " resumes (contract 8.4), 1..1000; the report counts frames and the messages they held apart"
                    + " (default: one message per frame)")
    Integer batchMs;

    /** {@code endpoint} with the query parameters every upgrade of this run carries ({@code batch=}); else itself. */
    URI upgradeEndpoint(URI endpoint) {
        if (batchMs == null) {
            return endpoint;
        }
        String query = endpoint.getRawQuery() == null ? "" : endpoint.getRawQuery() + "&";
        return URI.create(endpoint.getScheme() + "://" + endpoint.getRawAuthority() + endpoint.getRawPath() + "?"
                + query + "batch=" + batchMs);
    }

    /** What the run does with its sessions when it finishes. */
    Ending.Policy ending() {
        return new Ending.Policy(leaveSessions, endTimeout);
    }

    int sessions(int fallback) {
        return sessions == null ? fallback : sessions;
    }

    Duration duration(Duration fallback) {
        return duration == null ? fallback : duration;
    }

    double connectRate(double fallback) {
        return connectRate == null ? fallback : connectRate;
    }

    double rate(double fallback) {
        return rate == null ? fallback : rate;
    }

    Path gatewayConfig(String fallback) {
        return gatewayConfig == null ? Path.of(fallback) : gatewayConfig;
    }

    /** The token source these options name. */
    TokenSource tokens(Duration defaultTtl) throws IOException {
        if (tokensFile != null) {
            return FileTokens.read(tokensFile);
        }
        return new HmacTokenMinter(signingSecret(), tokenTtl == null ? defaultTtl : tokenTtl, Clock.systemUTC());
    }

    /**
     * The HMAC secret tokens are minted with: {@code --secret} (or {@code TETHER_JWT_SECRET}) when
     * given; else, for a gateway launched here, a random one made for this run and handed to it as
     * {@code TETHER_JWT_SECRET} (a gateway refuses the public development secret unless it serves
     * dev tokens); else the development secret, for a development gateway at {@code --url}.
     */
    String signingSecret() {
        if (secret != null && !secret.isBlank()) {
            return secret;
        }
        if (!launchGateway) {
            return DEV_SECRET;
        }
        if (runSecret == null) {
            byte[] random = new byte[48];
            new SecureRandom().nextBytes(random);
            runSecret = HexFormat.of().formatHex(random);
        }
        return runSecret;
    }

    void validate() {
        if (sessions != null && sessions < 1) {
            throw new IllegalArgumentException("--sessions: " + sessions + " (expected: >= 1)");
        }
        if (rate != null && !(rate > 0)) {
            throw new IllegalArgumentException("--rate: " + rate + " (expected: > 0)");
        }
        if (connectRate != null && !(connectRate > 0)) {
            throw new IllegalArgumentException("--connect-rate: " + connectRate + " (expected: > 0)");
        }
        if (payloadBytes < 1) {
            throw new IllegalArgumentException("--payload-bytes: " + payloadBytes + " (expected: >= 1)");
        }
        if (clientWarmup < 0) {
            throw new IllegalArgumentException("--client-warmup: " + clientWarmup + " (expected: >= 0)");
        }
        if (endTimeout.isNegative() || endTimeout.isZero()) {
            throw new IllegalArgumentException("--end-timeout: " + endTimeout + " (expected: > 0)");
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("--warmup: " + warmup + " (expected: >= 0)");
        }
        if (batchMs != null && (batchMs < 1 || batchMs > 1000)) {
            throw new IllegalArgumentException("--batch: " + batchMs + " (expected: 1..1000 ms)");
        }
        if (caFile != null || insecure) {
            dev.tether.loadtest.client.ClientTls.configure(caFile, insecure);
        }
    }
}
