package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Refused upgrades: the contract's status/code table, the two extensions, and the body. */
class UpgradeRefusalTest {

    /** One row of the refusal table: HTTP status, body code, whether a Retry-After header is sent. */
    private record Row(int status, String code, boolean retryAfter) {}

    /** Contract section 1. */
    private static final List<Row> CONTRACT = List.of(
            new Row(401, "unauthorized", false),
            new Row(403, "origin_forbidden", false),
            new Row(429, "too_many_connections", true),
            new Row(503, "at_capacity", true),
            new Row(503, "shutting_down", true));

    /** Extensions documented in docs/protocol.md. */
    private static final List<Row> EXTENSIONS =
            List.of(new Row(404, "not_found", false), new Row(400, "bad_request", false));

    @Test
    void refusalsAreExactlyTheContractRowsPlusTheExtensions() {
        List<Row> expected = new ArrayList<>(CONTRACT);
        expected.addAll(EXTENSIONS);
        List<Row> actual = Arrays.stream(UpgradeRefusal.values())
                .map(r -> new Row(r.status(), r.code(), r.retryAfter()))
                .toList();

        assertEquals(expected, actual);
    }

    @Test
    void codesAreUnique() {
        assertEquals(
                UpgradeRefusal.values().length,
                Arrays.stream(UpgradeRefusal.values())
                        .map(UpgradeRefusal::code)
                        .distinct()
                        .count());
    }

    @ParameterizedTest
    @EnumSource(UpgradeRefusal.class)
    void bodyCarriesTheCode(UpgradeRefusal refusal) {
        RefusalBody body = RefusalBody.of(refusal, "why");

        assertEquals(refusal.code(), body.error());
        assertEquals("why", body.message());
    }

    @ParameterizedTest
    @EnumSource(UpgradeRefusal.class)
    void onlyLoadRefusalsAskToRetryLater(UpgradeRefusal refusal) {
        assertEquals(refusal.status() == 429 || refusal.status() == 503, refusal.retryAfter());
        assertTrue(refusal.status() >= 400 && refusal.status() < 600);
    }
}
