package dev.tether.gateway.cli;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.server.GatewayServer;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Turns SIGTERM into a graceful drain: the first SIGTERM starts {@link GatewayServer#drain}, a
 * second one (or any later one) calls {@link GatewayServer#forceStop()}, which stops waiting for
 * running turns, or, once the workers are being stopped, skips their graces. The process exits
 * once the drain has completed (every worker gone); {@link RunCommand} waits for that.
 *
 * <p>Installing a handler replaces the JVM's own SIGTERM handling (which would run the shutdown
 * hooks and exit at once), so SIGTERM no longer runs the shutdown hook directly. SIGINT (Ctrl-C),
 * SIGHUP and {@code System.exit} keep the JVM's behaviour: the shutdown hook closes the gateway
 * without waiting for turns.
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}): the JDK has no supported API for
 * handling a signal without exiting. The handler runs on a JVM signal thread and only starts work
 * that never blocks.
 */
final class DrainOnSignal {

    private static final Logger log = LoggerFactory.getLogger(DrainOnSignal.class);
    static final String SIGNAL = "TERM";

    private final GatewayServer server;
    private final AtomicInteger received = new AtomicInteger();

    private DrainOnSignal(GatewayServer server) {
        this.server = requireNonNull(server, "server");
    }

    /** Handles SIGTERM for {@code server} from now on. */
    static DrainOnSignal install(GatewayServer server) {
        DrainOnSignal handler = new DrainOnSignal(server);
        try {
            Signal.handle(new Signal(SIGNAL), signal -> handler.onSignal());
        } catch (IllegalArgumentException e) {
            // The JVM reserves SIGTERM (-Xrs, or a platform without it): the shutdown hook still closes.
            log.warn("cannot handle SIGTERM ({}): it stops the gateway without a drain", e.getMessage());
        }
        return handler;
    }

    /** One SIGTERM arrived (also called by tests). */
    void onSignal() {
        if (received.incrementAndGet() == 1) {
            log.info("SIGTERM: draining (a second SIGTERM forces the stop)");
            server.drain("SIGTERM");
        } else {
            log.info("SIGTERM again: forcing the stop");
            server.forceStop();
        }
    }
}
