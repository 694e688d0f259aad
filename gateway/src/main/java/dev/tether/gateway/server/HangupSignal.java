package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP, the Unix convention for "re-read your configuration", routed to {@link
 * ConfigReloader#reload()}. Kept apart from any other signal handling (SIGTERM belongs to the
 * shutdown path) so each signal has one owner.
 *
 * <p>The JVM runs the handler on its own signal-dispatch thread; {@link ConfigReloader#reload()}
 * only hands the work to the reloader's thread, so the handler returns at once.
 */
public final class HangupSignal {

    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {}

    /**
     * Makes SIGHUP reload the config through {@code reloader} (replacing the JVM's default, which
     * would exit). Returns false, after a WARN, where the platform has no SIGHUP or the JVM keeps it
     * for itself (e.g. with {@code -Xrs}).
     */
    public static boolean install(ConfigReloader reloader) {
        requireNonNull(reloader, "reloader");
        return handle(reloader::reload);
    }

    /**
     * For a gateway running on the built-in defaults: SIGHUP only logs that there is no file to
     * reload (the JVM's default would end the process with 129).
     */
    public static boolean installWithoutFile() {
        return handle(() -> log.info("SIGHUP: no config file in use (built-in defaults), nothing to reload"));
    }

    private static boolean handle(Runnable action) {
        try {
            Signal.handle(new Signal("HUP"), signal -> action.run());
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGHUP cannot be handled here ({}): reload the configuration by editing the file", e.getMessage());
            return false;
        }
    }
}
