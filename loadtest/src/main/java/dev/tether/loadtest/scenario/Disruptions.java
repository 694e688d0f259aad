package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.client.Disruption;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.testkit.TcpRelay;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The chaos scenario's cutter: disrupts each user at exponentially distributed intervals (mean
 * {@code --cut-interval}), drawing each {@link Disruption} from the {@link Mix} with the user's own
 * seeded random. Runs on one timer thread; a user that is still away when its next cut comes skips
 * it.
 */
final class Disruptions implements Traffic.Hook {

    /**
     * The shares and times the chaos flags set, as they apply to one gateway.
     *
     * @param abrupt        of the cuts that close the connection, the share that are TCP resets
     * @param halfOpen      share of cuts that leave the connection half-open (black hole or stall, half each)
     * @param halfOpenAway  how long a user whose connection is half-open stays away at least (heartbeat timeout +
     *                      interval + 2 s; up to a second more), so that the gateway's heartbeat must find it first
     * @param aimed         share of cuts that wait for a turn's next delta
     * @param offlineMax    longest time away before an ordinary resume (uniform from 0)
     * @param expire        share of cuts after which the user stays away 1-2 s past {@code window}
     * @param window        the gateway's reconnect window
     * @param handshakeCut  share of resumes whose first handshake is reset
     * @param replayCut     share of resumes cut again during their replay
     * @param race          share of resumes made by {@code racers} connections at once
     * @param racers        connections in a race
     * @param rewindMax     resumes go back 1..rewindMax seqs below what was processed (0: never)
     */
    record Mix(
            double abrupt,
            double halfOpen,
            Duration halfOpenAway,
            double aimed,
            Duration offlineMax,
            double expire,
            Duration window,
            double handshakeCut,
            double replayCut,
            double race,
            int racers,
            int rewindMax) {

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "cuts: %.0f%% abrupt, %.0f%% half-open (away %d ms+), %.0f%% aimed mid-turn;"
                            + " away up to %d ms, %.0f%% past the %d ms reconnect window; resumes: %.0f%% handshake cut, %.0f%% replay cut,"
                            + " %.0f%% racing (%d), rewind up to %d",
                    abrupt * 100,
                    halfOpen * 100,
                    halfOpenAway.toMillis(),
                    aimed * 100,
                    offlineMax.toMillis(),
                    expire * 100,
                    window.toMillis(),
                    handshakeCut * 100,
                    replayCut * 100,
                    race * 100,
                    racers,
                    rewindMax);
        }
    }

    private final Duration mean;
    private final Mix mix;
    private final long seed;
    private ScheduledExecutorService timer;
    private RunStats stats;

    Disruptions(Duration mean, Mix mix, long seed) {
        this.mean = requireNonNull(mean, "mean");
        this.mix = requireNonNull(mix, "mix");
        this.seed = seed;
    }

    @Override
    public void start(List<VirtualUser> users, RunStats stats) {
        this.stats = stats;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "chaos-cutter");
            t.setDaemon(true);
            return t;
        });
        for (VirtualUser user : users) {
            Random random = new Random(seed * 31 + user.index());
            schedule(user, random);
        }
    }

    private void schedule(VirtualUser user, Random random) {
        double u = random.nextDouble();
        long delay = (long) (-Math.log(1 - u) * mean.toNanos());
        Unwatched.schedule(
                timer,
                () -> {
                    Disruption plan = draw(random);
                    if (user.cut(plan) && plan.expectExpiry()) {
                        stats.count("expiries_planned");
                    }
                    schedule(user, random);
                },
                delay,
                TimeUnit.NANOSECONDS);
    }

    /** One disruption drawn from the mix. */
    Disruption draw(Random random) {
        double kind = random.nextDouble();
        Disruption.Cut cut;
        Duration offline;
        boolean expire = false;
        if (kind < mix.halfOpen()) {
            cut = random.nextBoolean() ? Disruption.Cut.BLACKHOLE : Disruption.Cut.STALL;
            offline = mix.halfOpenAway().plusMillis(random.nextInt(1000));
        } else if (kind < mix.halfOpen() + mix.expire()) {
            cut = Disruption.Cut.ABRUPT;
            expire = true;
            offline = mix.window().plusMillis(1000 + random.nextInt(1000));
        } else {
            cut = random.nextDouble() < mix.abrupt() ? Disruption.Cut.ABRUPT : Disruption.Cut.CLEAN;
            offline = Duration.ofNanos(
                    (long) (random.nextDouble() * mix.offlineMax().toNanos()));
        }
        boolean aimed = random.nextDouble() < mix.aimed();
        int racers = !expire && random.nextDouble() < mix.race() ? mix.racers() : 1;
        TcpRelay.HandshakeCut handshake = !expire && racers == 1 && random.nextDouble() < mix.handshakeCut()
                ? (random.nextBoolean() ? TcpRelay.HandshakeCut.AFTER_REQUEST : TcpRelay.HandshakeCut.AT_RESPONSE)
                : null;
        boolean replayCut = !expire && racers == 1 && random.nextDouble() < mix.replayCut();
        int rewind = mix.rewindMax() > 0 ? 1 + random.nextInt(mix.rewindMax()) : 0;
        return new Disruption(cut, offline, aimed, expire, racers, handshake, replayCut, rewind);
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
