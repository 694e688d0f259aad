package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.report.ReportBuilder;
import dev.tether.loadtest.report.ReportFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * What every scenario subcommand does around its run: validates options, runs, writes the report
 * files, prints the summary, and turns the outcome into the exit code (0 passed, 1 audit
 * violations or unexpected errors, 2 usage or setup error). Runs on the main thread.
 */
abstract class ScenarioCommand implements Callable<Integer> {

    /** Exit code: the run passed its audit without unexpected errors. */
    static final int PASSED = 0;
    /** Exit code: audit violations or unexpected errors. */
    static final int FAILED = 1;
    /** Exit code: bad options, or the target could not be set up. */
    static final int SETUP = 2;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** Checks this scenario's own options; throws {@link IllegalArgumentException} naming the option. */
    void validate() {}

    /** Runs the scenario and returns its report JSON. */
    abstract ObjectNode execute() throws Exception;

    @Override
    public final Integer call() {
        PrintStream err = System.err;
        try {
            common.validate();
            validate();
        } catch (IllegalArgumentException e) {
            err.println("loadtest " + spec.name() + ": " + e.getMessage());
            return SETUP;
        }
        ObjectNode report;
        try {
            report = execute();
        } catch (SetupException | IllegalArgumentException | IllegalStateException e) {
            err.println("loadtest " + spec.name() + ": cannot run: " + e.getMessage());
            return SETUP;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("loadtest " + spec.name() + ": interrupted");
            return SETUP;
        } catch (Exception e) {
            err.println("loadtest " + spec.name() + ": failed: " + e);
            e.printStackTrace(err);
            return SETUP;
        }
        try {
            String text = ReportFiles.write(report, common.out);
            System.out.print(text);
            System.out.println("report: " + common.out.resolve("report.json") + ", report.txt, report.html");
        } catch (Exception e) {
            err.println("loadtest " + spec.name() + ": cannot write the report to " + common.out + ": " + e);
            return SETUP;
        }
        boolean comparedPassed = true;
        for (JsonNode run : report.path("compare_runs")) {
            comparedPassed &= passed(run);
        }
        return passed(report) && (report.get("baseline") == null || passed(report.get("baseline"))) && comparedPassed
                ? PASSED
                : FAILED;
    }

    /** Whether the audit passed and nothing unexpected was counted as an error. */
    static boolean passed(JsonNode report) {
        JsonNode audit = report.path("audit");
        boolean auditOk = audit.isMissingNode() || audit.path("passed").asBoolean();
        return auditOk && report.path("errors").size() == 0;
    }

    /** The options as given or defaulted, by long name, for the report; the secret is left out. */
    Map<String, Object> optionValues() {
        Map<String, Object> values = new TreeMap<>();
        for (OptionSpec option : spec.options()) {
            String name = option.longestName().replaceFirst("^--", "");
            if (name.equals("secret") || option.usageHelp() || option.versionHelp()) {
                continue;
            }
            Object value = option.getValue();
            values.put(
                    name,
                    value == null
                            ? null
                            : value instanceof Boolean || value instanceof Number ? value : value.toString());
        }
        return values;
    }

    /** As {@link #optionValues()}, with the scenario defaults that {@code plan} filled in where an option was not given. */
    Map<String, Object> optionValues(Traffic.Plan plan) {
        Map<String, Object> values = optionValues();
        values.put("sessions", plan.sessions());
        values.put("rate", plan.rate());
        values.put("duration", plan.duration().toString());
        values.put("token-ttl", common.tokenTtl == null ? plan.tokenTtl().toString() : common.tokenTtl.toString());
        return values;
    }

    /**
     * The settings of the virtual users of a scenario on {@code target}: tokens that live an hour,
     * no resume on drop, no chaos.
     */
    ClientSettings clientSettings(Target target, RunStats stats, int ackEvery, Duration connectTimeout)
            throws IOException {
        return ClientSettings.plain(
                target.uri(), common.tokens(Duration.ofHours(1)), stats, ackEvery, connectTimeout, target.turnModel());
    }

    /**
     * The report of a scenario of one phase on {@code target}: its options, stats and audit, its own
     * {@code section} under its {@code name}, how the sessions ended, the gateway process where it was
     * sampled, and the client's warm-up.
     */
    ObjectNode report(
            String name,
            Target target,
            Instant startedAt,
            double elapsedS,
            RunStats stats,
            Fleet.Finish finish,
            ObjectNode section,
            WarmStart warm) {
        ReportBuilder report = new ReportBuilder(name, target.kind(), startedAt, elapsedS, 0)
                .options(optionValues())
                .stats(stats, elapsedS)
                .audit(AuditSummary.of(finish.audits()))
                .section(name, section)
                .section(
                        "sessions_end",
                        finish.ending().toJson(target.liveSessionsAfter(finish.ending(), common.endTimeout)));
        if (target.sampler() != null) {
            report.process(target.sampler().pid(), target.sampler().samples());
        }
        warm.addTo(report);
        return report.build();
    }

    /** A target or run that could not be set up (exit code 2). */
    static final class SetupException extends Exception {
        SetupException(String message) {
            super(message);
        }
    }
}
