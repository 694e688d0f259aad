package dev.tether.gateway.worker.pool;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.PoolConfig;
import java.time.Duration;

/**
 * Decides when the {@link WorkerPool} may spawn: the stagger between background spawns
 * ({@code pool.spawn_interval}), the exponential backoff after consecutive failures
 * ({@code pool.backoff_initial} doubling up to {@code pool.backoff_max}) and the circuit breaker
 * ({@code pool.breaker_failures}, {@code pool.breaker_cooldown}).
 *
 * <p>Times are ticker nanoseconds, passed in, so this is pure arithmetic. Not thread-safe: the pool
 * calls it under its lock.
 */
final class SpawnGovernor {

    /** {@link #backgroundDelay} when only an event (the half-open trial's outcome) can allow a spawn. */
    static final long UNTIL_EVENT = Long.MAX_VALUE;

    /** What a failure did to the breaker. */
    enum Outcome {
        COUNTED,
        OPENED,
        REOPENED
    }

    private final long spawnInterval;
    private final long backoffInitial;
    private final long backoffMax;
    private final int breakerFailures;
    private final long breakerCooldown;

    private boolean spawnedInBackground;
    private long lastBackgroundSpawn;
    private int consecutiveFailures;
    private long backoffUntil;
    private BreakerState breaker = BreakerState.CLOSED;
    private long openUntil;
    private boolean trialInFlight;
    private long spawnFailures;
    private String lastFailure;

    SpawnGovernor(PoolConfig config) {
        requireNonNull(config, "config");
        this.spawnInterval = config.spawnInterval().toNanos();
        this.backoffInitial = config.backoffInitial().toNanos();
        this.backoffMax = config.backoffMax().toNanos();
        this.breakerFailures = config.breakerFailures();
        this.breakerCooldown = config.breakerCooldown().toNanos();
    }

    /** The backoff after {@code failures} consecutive failures: initial * 2^(failures-1), at most max. */
    static long backoffNanos(long initial, long max, int failures) {
        if (failures <= 0) {
            return 0;
        }
        int shift = Math.min(failures - 1, 62);
        return initial <= (max >> shift) ? Math.min(initial << shift, max) : max;
    }

    BreakerState breaker(long now) {
        if (breaker == BreakerState.OPEN && now - openUntil >= 0) {
            breaker = BreakerState.HALF_OPEN;
        }
        return breaker;
    }

    /**
     * Nanoseconds until a background spawn may start: 0 when it may start now, {@link #UNTIL_EVENT}
     * while the half-open trial is in flight.
     */
    long backgroundDelay(long now) {
        long delay = spawnedInBackground ? Math.max(0, lastBackgroundSpawn + spawnInterval - now) : 0;
        return switch (breaker(now)) {
            case OPEN -> Math.max(delay, openUntil - now);
            // The trial is due now: the cooldown replaces the backoff once the breaker has opened.
            case HALF_OPEN -> trialInFlight ? UNTIL_EVENT : delay;
            case CLOSED -> consecutiveFailures == 0 ? delay : Math.max(delay, backoffUntil - now);
        };
    }

    /** How long failures still hold background spawning back (backoff or open breaker); 0 when they do not. */
    long failureDelay(long now) {
        return switch (breaker(now)) {
            case OPEN -> Math.max(0, openUntil - now);
            case HALF_OPEN -> 0;
            case CLOSED -> consecutiveFailures == 0 ? 0 : Math.max(0, backoffUntil - now);
        };
    }

    /** Why a cold start (a session found no warm worker) may not spawn now, or {@code null} if it may. */
    String refuseCold(long now) {
        return switch (breaker(now)) {
            case OPEN ->
                "worker spawning paused by the circuit breaker after " + consecutiveFailures
                        + " consecutive spawn failures (pool.breaker_failures), for another "
                        + Durations.format(Duration.ofNanos(openUntil - now)) + "; last failure: " + lastFailure;
            case HALF_OPEN ->
                trialInFlight ? "worker spawning paused by the circuit breaker; a trial spawn is in progress" : null;
            case CLOSED -> null;
        };
    }

    /** Records a spawn starting now; returns whether it is the half-open breaker's trial. */
    boolean onSpawn(long now, boolean background) {
        if (background) {
            spawnedInBackground = true;
            lastBackgroundSpawn = now;
        }
        if (breaker(now) == BreakerState.HALF_OPEN && !trialInFlight) {
            trialInFlight = true;
            return true;
        }
        return false;
    }

    /** A spawn became ready: resets the backoff; returns whether that closed the breaker. */
    boolean onSuccess() {
        consecutiveFailures = 0;
        trialInFlight = false;
        if (breaker == BreakerState.CLOSED) {
            return false;
        }
        breaker = BreakerState.CLOSED;
        return true;
    }

    /** A spawn failed at {@code now}; {@code trial} says whether it was the half-open trial. */
    Outcome onFailure(long now, boolean trial, String reason) {
        spawnFailures++;
        lastFailure = reason;
        consecutiveFailures = Math.max(1, consecutiveFailures + 1);
        backoffUntil = now + backoffNanos(backoffInitial, backoffMax, consecutiveFailures);
        if (trial) {
            trialInFlight = false;
        }
        BreakerState state = breaker(now);
        if (state == BreakerState.OPEN || consecutiveFailures < breakerFailures) {
            return Outcome.COUNTED;
        }
        breaker = BreakerState.OPEN;
        openUntil = now + breakerCooldown;
        return state == BreakerState.HALF_OPEN ? Outcome.REOPENED : Outcome.OPENED;
    }

    /** The trial spawn was never launched (the pool closed or its configuration was replaced). */
    void onTrialAbandoned() {
        trialInFlight = false;
    }

    /** A failure of a worker from a replaced configuration: counted, but says nothing about the new one. */
    Outcome onStaleFailure(String reason) {
        spawnFailures++;
        lastFailure = reason;
        return Outcome.COUNTED;
    }

    /** The worker configuration changed: a new command deserves a fresh start (no backoff, breaker closed). */
    void reset() {
        consecutiveFailures = 0;
        trialInFlight = false;
        breaker = BreakerState.CLOSED;
    }

    int consecutiveFailures() {
        return consecutiveFailures;
    }

    long spawnFailures() {
        return spawnFailures;
    }

    String lastFailure() {
        return lastFailure;
    }

    long backoffNanos() {
        return backoffNanos(backoffInitial, backoffMax, consecutiveFailures);
    }

    Duration breakerCooldown() {
        return Duration.ofNanos(breakerCooldown);
    }
}
