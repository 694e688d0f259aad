package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code sessions.admission} section: the line of {@code wait=1} connections that wait for
 * capacity (contract 8.1). Immutable and thread-safe.
 *
 * @param maxWaiting connections waiting on this node at once, {@code sessions.admission.max_waiting},
 *     0..100000 where 0 means nobody waits (every refusal is 503 at once); default 1000
 * @param maxWaitingPerUser connections of one user waiting at once,
 *     {@code sessions.admission.max_waiting_per_user}, 0..100000; default 2
 * @param maxWait how long a connection may wait before error {@code admission_timeout} and close
 *     1013, {@code sessions.admission.max_wait}, 1s..1h; default 2m
 */
public record AdmissionConfig(int maxWaiting, int maxWaitingPerUser, Duration maxWait) {

    public static final int DEFAULT_MAX_WAITING = 1000;
    public static final int DEFAULT_MAX_WAITING_PER_USER = 2;
    public static final int MAX_MAX_WAITING = 100_000;
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofMinutes(2);
    public static final Duration MIN_MAX_WAIT = Duration.ofSeconds(1);
    public static final Duration MAX_MAX_WAIT = Duration.ofHours(1);

    public AdmissionConfig {
        Check.between("sessions.admission.max_waiting", maxWaiting, 0, MAX_MAX_WAITING);
        Check.between("sessions.admission.max_waiting_per_user", maxWaitingPerUser, 0, MAX_MAX_WAITING);
        Check.between("sessions.admission.max_wait", maxWait, MIN_MAX_WAIT, MAX_MAX_WAIT);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static AdmissionConfig defaults() {
        return new AdmissionConfig(DEFAULT_MAX_WAITING, DEFAULT_MAX_WAITING_PER_USER, DEFAULT_MAX_WAIT);
    }
}
