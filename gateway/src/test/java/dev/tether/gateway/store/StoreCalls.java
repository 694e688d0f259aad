package dev.tether.gateway.store;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tether.gateway.replay.ReplayBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What the tests of the Redis store against a real server share: waiting for a store call with a
 * deadline, frames as text, and the check that every write of a node whose claim was taken fails
 * with {@link StaleClaimException}.
 */
final class StoreCalls {

    /** How long one store call may take. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private StoreCalls() {}

    /** The value {@code stage} completes with, within {@link #WAIT}; any failure fails the test. */
    static <T> T get(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Each of {@code writes} (made with a fence whose claim was taken) fails with {@link StaleClaimException}. */
    static void assertEveryWriteIsStale(List<CompletionStage<?>> writes) {
        for (CompletionStage<?> write : writes) {
            ExecutionException failure = assertThrows(
                    ExecutionException.class,
                    () -> write.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertInstanceOf(StaleClaimException.class, failure.getCause(), failure::toString);
        }
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static List<byte[]> frames(String... texts) {
        return Arrays.stream(texts).map(StoreCalls::bytes).toList();
    }

    static List<String> texts(List<ReplayBuffer.Entry> entries) {
        return entries.stream().map(e -> text(e.frame())).toList();
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
