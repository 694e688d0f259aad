package dev.tether.loadtest.client;

import java.time.Duration;
import java.util.List;

/**
 * What the fleets of both clients (the Tyrus client's, the engine's) do alike: warm the client up,
 * open the run's sessions at a paced rate, and list those that opened. Driven from the scenario's
 * thread.
 */
public interface SessionFleet {

    /**
     * Opens {@code n} warm-up sessions with stats of their own and ends them, at most {@code timeout}
     * in all, so that the run's first measurements do not pay for class loading and the JIT.
     *
     * @return how many warm-up sessions became ready
     */
    int warmUpClient(int n, Duration timeout) throws InterruptedException;

    /**
     * Opens {@code n} sessions, {@code perSecond} connects a second, and waits for all of them
     * (each at most {@code timeout} after it started).
     *
     * @return the refusals of the sessions that did not open (null for a timeout)
     */
    List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException;

    /** The users whose session opened. */
    List<? extends ScenarioUser> connected();
}
