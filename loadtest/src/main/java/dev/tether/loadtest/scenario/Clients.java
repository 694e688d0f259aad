package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.ClientWarmup;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.engine.EngineClient;
import dev.tether.loadtest.engine.EngineFleet;
import dev.tether.loadtest.engine.EngineSession;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The two clients behind one small interface, for the scenarios that can run on either
 * ({@code connect}, {@code resume}, {@code idle}): the Netty engine ({@link EngineFleet}) and the
 * Tyrus client ({@link Fleet}). Adapters only; each client keeps its own threading (see there).
 */
final class Clients {

    /** One virtual user, as the scenarios drive it. */
    interface User {
        String newId();

        void send(String id, JsonNode data, long scheduledNanos);

        /** A clean (or abrupt) cut; the user resumes {@code resumeAfter} after the close. */
        void cut(boolean abrupt, Duration resumeAfter);

        boolean workerReady();

        boolean ended();

        /** Waits until every message is answered and a resume has caught up, at most until {@code deadlineNanos}. */
        boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException;
    }

    /** The users of a run. */
    interface Users extends AutoCloseable {
        int warmUpClient(int n, Duration timeout) throws InterruptedException;

        /** Upgrades with a bad token (401) to warm the connect path; returns how many were refused 401. */
        int refusedUpgrades(int n) throws InterruptedException;

        List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException;

        List<User> connected();

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
        EngineClient client = new EngineClient(options.threads);
        return new Engine(client, new EngineFleet(client, settings, Dialect.TETHER, subjectPrefix));
    }

    /** An engine fleet behind the interface; closing it stops {@code client} too. */
    static Users engine(EngineClient client, EngineFleet fleet) {
        return new Engine(client, fleet);
    }

    /** The Tyrus fleet behind the interface; {@code uri} is its target's (for the refused upgrades). */
    static Users tyrus(Fleet fleet, URI uri) {
        return new Users() {
            @Override
            public int warmUpClient(int n, Duration timeout) throws InterruptedException {
                return fleet.warmUpClient(n, timeout);
            }

            @Override
            public int refusedUpgrades(int n) {
                return ClientWarmup.refusedUpgrades(uri, n);
            }

            @Override
            public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
                return fleet.connect(n, perSecond, timeout);
            }

            @Override
            public List<User> connected() {
                return fleet.connected().stream().<User>map(Clients::tyrusUser).toList();
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

    private static User tyrusUser(VirtualUser user) {
        return new User() {
            @Override
            public String newId() {
                return user.newId();
            }

            @Override
            public void send(String id, JsonNode data, long scheduledNanos) {
                user.send(id, data, scheduledNanos);
            }

            @Override
            public void cut(boolean abrupt, Duration resumeAfter) {
                user.cut(abrupt, resumeAfter);
            }

            @Override
            public boolean workerReady() {
                return user.workerReady();
            }

            @Override
            public boolean ended() {
                return user.ended();
            }

            @Override
            public boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
                return user.awaitCaughtUp(deadlineNanos);
            }
        };
    }

    /** The engine behind the interface; closing it stops the client's event loops too. */
    private record Engine(EngineClient client, EngineFleet fleet) implements Users {
        @Override
        public int warmUpClient(int n, Duration timeout) throws InterruptedException {
            return fleet.warmUpClient(n, timeout);
        }

        @Override
        public int refusedUpgrades(int n) throws InterruptedException {
            return fleet.refusedUpgrades(n);
        }

        @Override
        public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
            return fleet.connect(n, perSecond, timeout);
        }

        @Override
        public List<User> connected() {
            return fleet.connected().stream().<User>map(Clients::engineUser).toList();
        }

        @Override
        public Fleet.Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException {
            return Clients.finish(fleet.finish(drain, policy.leave(), policy.timeout()));
        }

        @Override
        public void close() {
            fleet.close();
            client.close();
        }
    }

    /** The engine's finish in the scenarios' terms. */
    static Fleet.Finish finish(EngineFleet.Finish f) {
        return new Fleet.Finish(f.audits(), new Ending(f.left(), f.sessions(), f.ended(), f.alreadyEnded(), f.failed()));
    }

    private static User engineUser(EngineSession session) {
        return new User() {
            @Override
            public String newId() {
                return session.newId();
            }

            @Override
            public void send(String id, JsonNode data, long scheduledNanos) {
                session.send(id, data, scheduledNanos);
            }

            @Override
            public void cut(boolean abrupt, Duration resumeAfter) {
                session.cut(abrupt, resumeAfter);
            }

            @Override
            public boolean workerReady() {
                return session.workerReady();
            }

            @Override
            public boolean ended() {
                return session.ended();
            }

            @Override
            public boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
                try {
                    return session.whenCaughtUp().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    return false;
                }
            }
        };
    }
}
