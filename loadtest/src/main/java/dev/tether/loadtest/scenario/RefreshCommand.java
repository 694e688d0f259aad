package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import picocli.CommandLine.Command;

/**
 * {@code refresh}: traffic on short-lived tokens; every user answers {@code refresh_required} with
 * {@code auth_refresh} (a fresh token, same subject) for the whole run. A 4010 close, or a run
 * longer than a token's life without a single refresh, fails it.
 */
@Command(
        name = "refresh",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Traffic on short-lived tokens refreshed in-band (auth_refresh) for the whole run; 4010 closes must be 0.",
            "Defaults: --sessions 20 --rate 40 --duration 60s --token-ttl 20s; --launch-gateway uses config/bench/refresh.yaml."
        })
public final class RefreshCommand extends ScenarioCommand {

    @Override
    void validate() {
        if (common.tokensFile != null) {
            throw new IllegalArgumentException("--tokens-file: refresh needs tokens it can mint (use --secret)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        Duration ttl = common.tokenTtl == null ? Duration.ofSeconds(20) : common.tokenTtl;
        Traffic.Plan plan = Traffic.Plan.direct(
                "refresh",
                common.sessions(20),
                common.rate(40),
                common.warmup,
                common.duration(Duration.ofSeconds(60)),
                ttl);
        try (Target target = Target.gateway(common, "config/bench/refresh.yaml", Duration.ofSeconds(1))) {
            Traffic.Result result = Traffic.run(common, plan, target, SteadyCommand.payload(common), null);
            RunStats stats = result.stats();
            long closes4010 = stats.closeCodes().getOrDefault(4010, 0L);
            if (stats.counter("refreshes") == 0
                    && plan.warmup().plus(plan.duration()).compareTo(ttl) > 0) {
                stats.error("no_refresh");
            }
            ObjectNode section = ReportBuilder.object()
                    .put("token_ttl_s", Durations.seconds(ttl))
                    .put("refresh_required", stats.counter("refresh_sent"))
                    .put("refreshes", stats.counter("refreshes"))
                    .put("closes_4010", closes4010);
            ReportBuilder report = result.report().options(optionValues(plan));
            // Re-read errors: no_refresh may have been added after the report's stats were taken.
            report.stats(stats, Durations.seconds(plan.warmup().plus(plan.duration())));
            return report.section("refresh", section).build();
        }
    }
}
