package dev.tether.loadtest.scenario;

import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.ClientWarmup;
import dev.tether.loadtest.client.Ending;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.ScenarioUser;
import dev.tether.loadtest.client.SessionFleet;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.engine.EngineClient;
import dev.tether.loadtest.engine.EngineFleet;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The two clients behind one small interface, for the scenarios that can run on either
 * ({@code connect}, {@code resume}, {@code idle}): the Netty engine ({@link EngineFleet}) and the
 * Tyrus client ({@link Fleet}). Adapters only; each client keeps its own threading (see there).
 */
final class Clients {

    /** The users of a run. */
    interface Users extends SessionFleet, AutoCloseable {
        /** Upgrades with a bad token (401) to warm the connect path; returns how many were refused 401. */
        int refusedUpgrades(int n) throws InterruptedException;

        Fleet.Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException;

        @Override
        void close();
    }

    private Clients() {}

    /** The users of the client {@code options} name, for the target in {@code settings}. */
    static Users open(ClientOptions options, ClientSettings settings, String subjectPrefix, boolean progress) {
        if (!options.engine()) {
            return tyrus(new Fleet(settings, subjectPrefix, false, progress), settings.uri());
        }
        EngineClient client = new EngineClient(options.threads, options.compression);
        return engine(client, new EngineFleet(client, settings, Dialect.TETHER, subjectPrefix));
    }

    /** An engine fleet behind the interface; closing it stops {@code client} too. */
    static Users engine(EngineClient client, EngineFleet fleet) {
        return new Adapter(fleet) {
            @Override
            public int refusedUpgrades(int n) throws InterruptedException {
                return fleet.refusedUpgrades(n);
            }

            @Override
            public Fleet.Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException {
                return Clients.finish(fleet.finish(drain, policy));
            }

            @Override
            public void close() {
                fleet.close();
                client.close();
            }
        };
    }

    /** The Tyrus fleet behind the interface; {@code uri} is its target's (for the refused upgrades). */
    static Users tyrus(Fleet fleet, URI uri) {
        return new Adapter(fleet) {
            @Override
            public int refusedUpgrades(int n) {
                return ClientWarmup.refusedUpgrades(uri, n);
            }

            @Override
            public Fleet.Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException {
                return fleet.finish(drain, policy);
            }

            @Override
            public void close() {
                fleet.close();
            }
        };
    }

    /** The engine's finish in the scenarios' terms. */
    static Fleet.Finish finish(EngineFleet.Finish f) {
        return new Fleet.Finish(f.audits(), f.ending());
    }

    /** A fleet behind the interface: what both fleets do alike goes straight to it. */
    private abstract static class Adapter implements Users {
        private final SessionFleet fleet;

        Adapter(SessionFleet fleet) {
            this.fleet = fleet;
        }

        @Override
        public int warmUpClient(int n, Duration timeout) throws InterruptedException {
            return fleet.warmUpClient(n, timeout);
        }

        @Override
        public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
            return fleet.connect(n, perSecond, timeout);
        }

        @Override
        public List<? extends ScenarioUser> connected() {
            return fleet.connected();
        }
    }
}
