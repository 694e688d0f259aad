package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.protocol.SessionState;
import java.time.Duration;
import java.time.Instant;

/**
 * A session as it was at one moment, taken on its event loop by {@link Session#snapshot()} for
 * operators. Immutable; holds no token, only the attached token's expiry.
 *
 * @param id the session id
 * @param subject the owner's {@code sub}
 * @param state the session state
 * @param attached whether a connection is attached
 * @param newestSeq the newest seq of its history (0 before the first)
 * @param workerPid the pid of the worker serving it, or null (echo worker, or none right now)
 * @param workerRssBytes the latest RSS sample of that worker's process tree, or null if none yet
 * @param startedAt when the session was created
 * @param age how long ago that was
 * @param tokenExpiresAt the expiry of the attached connection's token, or null when detached
 * @param viewers read-only viewer connections attached now (contract 7.4)
 * @param workerDiskBytes the disk use of that worker's working directory at the disk monitor's last
 *     finished measurement, or null (none yet, no disk limits, or a worker without a directory)
 */
public record SessionSnapshot(
        String id,
        String subject,
        SessionState state,
        boolean attached,
        long newestSeq,
        Long workerPid,
        Long workerRssBytes,
        Instant startedAt,
        Duration age,
        Instant tokenExpiresAt,
        int viewers,
        Long workerDiskBytes) {

    public SessionSnapshot {
        requireNonNull(id, "id");
        requireNonNull(subject, "subject");
        requireNonNull(state, "state");
        requireNonNull(startedAt, "startedAt");
        requireNonNull(age, "age");
    }
}
