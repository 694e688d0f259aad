package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code steady --compare tls}: the same workload, one after the other in one run, against three
 * gateways launched here with the echo worker: plain {@code ws://} ({@code config/bench/echo.yaml}),
 * TLS with BoringSSL ({@code echo-tls-openssl.yaml}) and TLS with the JDK's provider
 * ({@code echo-tls-jdk.yaml}), each driven by the Netty engine over {@code wss://} trusting
 * {@code --ca-file} (or {@code --insecure}). Every session's connection makes one TLS handshake at
 * the start; the figures are per message. The report is the plain run's, with a {@code compare}
 * section (each target's figures and the TLS runs' ratios to plain and to each other) and the TLS
 * runs' whole reports in {@code compare_runs}. Runs on the scenario's thread.
 */
final class CompareTls {

    /** The targets, in the order they run, with their configs. */
    static final Map<String, String> CONFIGS = Map.of(
            "plain", "config/bench/echo.yaml",
            "openssl", "config/bench/echo-tls-openssl.yaml",
            "jdk", "config/bench/echo-tls-jdk.yaml");

    static final List<String> TARGETS = List.of("plain", "openssl", "jdk");

    private CompareTls() {}

    static ObjectNode run(
            CommonOptions common,
            Traffic.Plan plan,
            JsonNode data,
            EngineTraffic.Drive drive,
            Map<String, Object> options)
            throws Exception {
        if (!common.launchGateway) {
            throw new IllegalArgumentException("--compare tls launches its three gateways: add --launch-gateway");
        }
        if (common.caFile == null && !common.insecure) {
            throw new IllegalArgumentException(
                    "--compare tls: give --ca-file (the certificate of config/bench/echo-tls-*.yaml,"
                            + " see docs/benchmarks.md) or --insecure");
        }
        PrintStream log = System.err;
        ObjectNode targets = ReportBuilder.object();
        ReportBuilder plainReport = null;
        ObjectNode runs = ReportBuilder.object();
        for (int i = 0; i < TARGETS.size(); i++) {
            String name = TARGETS.get(i);
            log.println("steady --compare tls: " + (i + 1) + "/3 " + name + " (" + CONFIGS.get(name) + ")");
            try (Target target = Target.gateway(common, Path.of(CONFIGS.get(name)), Duration.ofSeconds(1), 0)) {
                EngineTraffic.Result r = EngineTraffic.run(common, plan, target, Dialect.TETHER, data, drive);
                targets.set(
                        name,
                        r.figures()
                                .put(
                                        "what",
                                        name.equals("plain")
                                                ? "Tether, echo worker, plain ws://"
                                                : "Tether, echo worker, wss:// with server.tls.provider " + name));
                if (name.equals("plain")) {
                    plainReport = r.report().options(options);
                } else {
                    runs.set(name, r.report().options(options).build());
                }
            }
        }
        ObjectNode section = ReportBuilder.object();
        section.set("targets", targets);
        ObjectNode ratios = section.putObject("ratios");
        ratios.set("openssl_to_plain", Compare.ratios(targets.get("openssl"), targets.get("plain")));
        ratios.set("jdk_to_plain", Compare.ratios(targets.get("jdk"), targets.get("plain")));
        ratios.set("jdk_to_openssl", Compare.ratios(targets.get("jdk"), targets.get("openssl")));
        return plainReport
                .section("compare", section)
                .section("compare_runs", runs)
                .build();
    }
}
