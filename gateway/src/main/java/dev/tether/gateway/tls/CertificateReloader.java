package dev.tether.gateway.tls;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.PeriodicCheck;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate a listener serves, re-read when its files change, so that a certificate can be
 * renewed without a restart and without dropping a connection.
 *
 * <p>Built from {@link TlsFiles} read at start-up: a file that cannot be served from fails start-up
 * with a {@link ConfigException} naming its key. Once {@link #start started}, the files are checked
 * every {@code server.tls.reload_interval} (size, modification time and SHA-256 of each); when one
 * changed, all are read again and, if they make a valid context (see {@link TlsFiles#build}), it
 * replaces the one in force for connections accepted from then on. Connections already open keep
 * the session they negotiated. A changed set that is not valid (half written, unparsable, key of
 * another certificate, expired or not yet valid) leaves the certificate in force and is logged once
 * with the reason; the next change is tried again. Every certificate put in force is logged with
 * its subject, expiry and SHA-256 fingerprint.
 *
 * <p>Threads: {@link #newHandler} and {@link #current} read an {@link AtomicReference} and are safe
 * on event loops. Checks read files: they run on the injected scheduler (the gateway gives the TLS
 * checks one daemon thread of their own, never an event loop) and are serialised by a lock.
 */
public final class CertificateReloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CertificateReloader.class);

    private final String listener;
    private final TlsFiles files;
    private final Clock clock;
    private final AtomicReference<ServedCertificate> current = new AtomicReference<>();

    /** Serialises checks, start and close; guards the fields below. */
    private final Object lock = new Object();
    /** The file states the certificate in force was built from. */
    private List<TlsFiles.Stamp> applied;
    /** The file states of the last refused reload, so that one broken state is logged once. */
    private List<TlsFiles.Stamp> refused;

    private final PeriodicCheck checks = new PeriodicCheck();

    /**
     * Reads the files now and builds the first context.
     *
     * @param listener which listener serves it, for the log ({@code server} or {@code admin})
     * @param clock what "now" is when certificates are checked for validity
     * @throws ConfigException naming the key of the first file that cannot be served from
     */
    public CertificateReloader(String listener, TlsFiles files, Clock clock) {
        this.listener = requireNonNull(listener, "listener");
        this.files = requireNonNull(files, "files");
        this.clock = requireNonNull(clock, "clock");
        TlsFiles.Snapshot snapshot = files.read();
        ServedCertificate first;
        try {
            first = files.build(snapshot, clock.instant());
        } catch (TlsFiles.BadFile bad) {
            throw new ConfigException(
                    bad.configKey(), bad.file(), TlsFiles.expected(bad.configKey()) + "; " + bad.reason());
        }
        synchronized (lock) {
            current.set(first);
            applied = snapshot.stamps();
        }
        log.info(
                "TLS ({} listener, {}): serving {}",
                listener,
                TlsProviders.describe(files.provider()),
                first.describe());
    }

    /**
     * Checks the files every {@code interval} on {@code scheduler}, which stays the caller's.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start(ScheduledExecutorService scheduler, Duration interval) {
        requireNonNull(scheduler, "scheduler");
        requireNonNull(interval, "interval");
        synchronized (lock) {
            checks.start(scheduler, interval, this::checkQuietly);
        }
    }

    /** The certificate new connections are served now. */
    public ServedCertificate current() {
        return current.get();
    }

    /**
     * A server-side {@link SslHandler} for a connection accepted now, with the certificate in force,
     * giving up on a handshake not done within {@code handshakeTimeout}. Any thread.
     */
    public SslHandler newHandler(ByteBufAllocator allocator, Duration handshakeTimeout) {
        SslHandler handler = current.get().context().newHandler(allocator);
        handler.setHandshakeTimeoutMillis(handshakeTimeout.toMillis());
        return handler;
    }

    /**
     * One check, as the scheduler runs it (tests and a config reload call it directly): re-reads the
     * files if any of them changed, and puts a valid new certificate in force.
     *
     * @return whether a new certificate was put in force
     */
    public boolean checkNow() {
        synchronized (lock) {
            if (checks.isClosed()) {
                return false;
            }
            TlsFiles.Snapshot now = files.read();
            if (now.stamps().equals(applied)) {
                refused = null;
                return false;
            }
            if (now.stamps().equals(refused)) {
                return false;
            }
            ServedCertificate next;
            try {
                next = files.build(now, clock.instant());
            } catch (TlsFiles.BadFile bad) {
                refused = now.stamps();
                log.warn(
                        "TLS ({} listener): certificate not reloaded: {}: {} ({}); still serving {}",
                        listener,
                        bad.configKey(),
                        bad.file(),
                        bad.reason(),
                        current.get().describe());
                return false;
            }
            current.set(next);
            applied = now.stamps();
            refused = null;
            log.info(
                    "TLS ({} listener): certificate reloaded: serving {} to new connections",
                    listener,
                    next.describe());
            return true;
        }
    }

    private void checkQuietly() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again; the next check must still happen.
            log.warn("TLS ({} listener): certificate check failed: {}", listener, e.toString());
        }
    }

    /** Stops the checks; the certificate in force stays usable. */
    @Override
    public void close() {
        synchronized (lock) {
            checks.close();
        }
    }
}
