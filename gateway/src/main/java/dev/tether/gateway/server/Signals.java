package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Every Unix signal the gateway handles, each with one owner:
 *
 * <ul>
 *   <li>SIGTERM drains: the first starts {@link GatewayServer#drain}, a second (or any later one)
 *       calls {@link GatewayServer#forceStop()}, which stops waiting for running turns or, once the
 *       workers are being stopped, skips their graces. The process exits once the drain has
 *       completed (every worker gone); {@code RunCommand} waits for that. Handling SIGTERM replaces
 *       the JVM's own action, so SIGTERM no longer runs the shutdown hook directly.
 *   <li>SIGHUP, the Unix convention for "re-read your configuration", calls
 *       {@link ConfigReloader#reload()}; without a config file it only logs that there is nothing to
 *       reload. Either way it replaces the JVM's default, which would end the process with 129.
 * </ul>
 *
 * SIGINT (Ctrl-C) and {@code System.exit} keep the JVM's behaviour: the shutdown hook closes the
 * gateway without waiting for running turns. Where the JVM keeps a signal for itself ({@code -Xrs},
 * or a platform without it), installing fails with a WARN and the JVM's behaviour stays.
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}): the JDK has no supported API for
 * handling a signal without exiting. Handlers run on the JVM's signal-dispatch thread and only hand
 * work over ({@code drain}, {@code forceStop} and {@code reload} never block), so they return at once.
 */
public final class Signals {

    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /**
     * Makes SIGTERM drain {@code server} from now on, and a second SIGTERM force the stop. Returns
     * false, after a WARN, where SIGTERM cannot be handled: it then stops the gateway without a
     * drain, through the shutdown hook.
     */
    public static boolean drainOnTerm(GatewayServer server) {
        requireNonNull(server, "server");
        AtomicInteger received = new AtomicInteger();
        return handle("TERM", "it stops the gateway without a drain", () -> {
            if (received.incrementAndGet() == 1) {
                log.info("SIGTERM: draining (a second SIGTERM forces the stop)");
                server.drain("SIGTERM");
            } else {
                log.info("SIGTERM again: forcing the stop");
                server.forceStop();
            }
        });
    }

    /**
     * Makes SIGHUP reload the config through {@code reloader}. Returns false, after a WARN, where
     * SIGHUP cannot be handled.
     */
    public static boolean reloadOnHangup(ConfigReloader reloader) {
        requireNonNull(reloader, "reloader");
        return handle("HUP", "reload the configuration by editing the file", reloader::reload);
    }

    /**
     * For a gateway running on the built-in defaults: SIGHUP only logs that there is no file to
     * reload.
     */
    public static boolean hangupWithoutFile() {
        return handle(
                "HUP",
                "it ends the gateway",
                () -> log.info("SIGHUP: no config file in use (built-in defaults), nothing to reload"));
    }

    private static boolean handle(String name, String otherwise, Runnable action) {
        try {
            Signal.handle(new Signal(name), signal -> action.run());
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIG{} cannot be handled here ({}): {}", name, e.getMessage(), otherwise);
            return false;
        }
    }
}
