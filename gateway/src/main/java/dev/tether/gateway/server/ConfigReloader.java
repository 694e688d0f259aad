package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.ConfigChanges;
import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.config.ReloadConfig;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live reload of the config file: checks it every {@code reload.interval} (size, modification time
 * and content hash) while {@code reload.watch} is true, and re-reads it whenever {@link #reload()} is
 * called (on SIGHUP, see {@link Signals}). A file that loads is handed to {@link
 * GatewayServer#apply}; INFO names the changed keys and WARN the changed keys that need a restart.
 * A file that does not load is rejected with WARN {@code config reload rejected: <key: value
 * (expected: ...)>} and the configuration in force stays; that broken state is warned about once.
 *
 * <p>Runs on its own daemon thread ({@code tether-config-reload}), never an event loop: checks and
 * reloads are serialised there. The {@code reload} section itself is live: each check schedules the
 * next with the interval in force.
 */
public final class ConfigReloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final Map<String, String> env;
    private final GatewayServer server;
    private final ScheduledExecutorService thread;
    /** The file as last read, loaded or not; touched only on {@link #thread}. */
    private Stamp seen;
    /** The file when this reloader was made. */
    private final Stamp initial;
    /** Whether a reload has run (then {@link #seen} is newer than {@link #initial}); touched only on {@link #thread}. */
    private boolean reloaded;
    /** Whether a periodic check is scheduled; touched only on {@link #thread}. */
    private boolean watching;

    private volatile boolean closed;

    /** The file's state as far as a change matters: size, modification time and content hash. */
    private record Stamp(long size, long modified, String sha256) {
        boolean sameAs(Stamp other) {
            return other != null && size == other.size && modified == other.modified && sha256.equals(other.sha256);
        }

        boolean sameContent(Stamp other) {
            return other != null && sha256.equals(other.sha256);
        }
    }

    /**
     * @param file the config file the gateway was started with
     * @param env the environment overrides, applied again on every reload
     * @param server the gateway to apply a reloaded configuration to
     */
    public ConfigReloader(Path file, Map<String, String> env, GatewayServer server) {
        this.file = requireNonNull(file, "file");
        this.env = Map.copyOf(requireNonNull(env, "env"));
        this.server = requireNonNull(server, "server");
        this.thread =
                Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("tether-config-reload", true));
        this.initial = stamp();
    }

    /**
     * Starts watching the file if {@code reload.watch}, comparing it with the file as it was when
     * this reloader was made (make it right after loading the configuration the gateway runs, so no
     * change falls between). {@link #reload()} works before this is called.
     */
    public void start() {
        thread.execute(() -> {
            if (!reloaded) {
                seen = initial;
            }
            scheduleNext();
        });
    }

    /** Re-reads the file now, changed or not (SIGHUP). Returns at once; the reload runs on the reloader's thread. */
    public void reload() {
        submit(() -> {
            log.info("re-reading {} (SIGHUP)", file);
            load(stamp());
            scheduleNext();
        });
    }

    /** Checks the file for a change now instead of at the next interval; returns at once. */
    void checkNow() {
        submit(this::checkIfChanged);
    }

    private void submit(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("config reloader closed: {}", e.toString());
        }
    }

    private void tick() {
        watching = false;
        checkIfChanged();
        scheduleNext();
    }

    private void checkIfChanged() {
        Stamp now = stamp();
        if (now == null || now.sameAs(seen)) {
            return;
        }
        if (now.sameContent(seen)) {
            seen = now;
            return;
        }
        load(now);
    }

    private void load(Stamp stamp) {
        seen = stamp;
        reloaded = true;
        GatewayConfig next;
        try {
            next = ConfigLoader.load(file, env);
        } catch (ConfigException e) {
            log.warn("config reload rejected: {}", e.getMessage());
            return;
        }
        ConfigChanges.Applied applied;
        try {
            applied = server.apply(next);
        } catch (ConfigException e) {
            log.warn("config reload rejected: {}", e.getMessage());
            return;
        } catch (RuntimeException e) {
            log.warn("config reload failed while applying it; the previous configuration may be partly in force", e);
            return;
        }
        if (applied.changed().isEmpty()) {
            log.info("config reloaded from {}: no key changed", file);
            return;
        }
        log.info("config reloaded from {}: changed {}", file, String.join(", ", applied.changed()));
        if (!applied.needRestart().isEmpty()) {
            log.warn(
                    "config keys changed that need a restart to take effect (their previous values stay in force): {}",
                    String.join(", ", applied.needRestart()));
        }
    }

    private void scheduleNext() {
        ReloadConfig reload = server.config().reload();
        if (closed || watching || !reload.watch()) {
            return;
        }
        watching = true;
        try {
            Unwatched.schedule(thread, this::tick, reload.interval().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            watching = false;
        }
    }

    /** The file's stamp, or null when it cannot be read now (a later check tries again). */
    private Stamp stamp() {
        try {
            byte[] content = Files.readAllBytes(file);
            long modified = Files.getLastModifiedTime(file).toMillis();
            return new Stamp(
                    content.length,
                    modified,
                    HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(content)));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
    }
}
