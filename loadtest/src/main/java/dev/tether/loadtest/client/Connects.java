package dev.tether.loadtest.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Settles the connects a fleet started, the same way for both clients: which sessions opened, and
 * why the others did not. Called on the scenario's thread.
 */
public final class Connects {

    private Connects() {}

    /**
     * Waits for every connect in {@code opening} (each bounded by the caller), the one of
     * {@code started}'s session at the same index; adds the sessions that opened to {@code connected},
     * counts each refusal in {@code stats} ({@code refused_<kind>}, {@code refused_timeout}) and
     * closes its session.
     *
     * @return the refusals of the sessions that did not open (null for a timeout)
     */
    public static <S> List<Refusal> settle(
            List<S> started,
            List<CompletableFuture<Void>> opening,
            List<S> connected,
            Consumer<? super S> close,
            RunStats stats) {
        CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new))
                .exceptionally(e -> null)
                .join();
        List<Refusal> refusals = new ArrayList<>();
        for (int i = 0; i < opening.size(); i++) {
            try {
                opening.get(i).join();
                connected.add(started.get(i));
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                Refusal refusal = cause instanceof Refusal r ? r : null;
                refusals.add(refusal);
                stats.count("refused_" + (refusal == null ? "timeout" : refusal.kind()));
                close.accept(started.get(i));
            }
        }
        return refusals;
    }
}
