package dev.tether.gateway.store;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The store's Lua scripts, read from this package's resources. A script that writes to a session on
 * behalf of its owner starts with {@code fence.lua}, so it refuses a stale claim before it changes
 * anything. Run by digest ({@code EVALSHA}); a server that does not know the script (restarted, or
 * flushed) gets it whole ({@code EVAL}), which also caches it again.
 */
final class Scripts {

    /** A script: its text and its SHA-1 digest, as Redis names it. */
    record Script(String name, String text, String sha) {}

    final Script create = load("create", false);
    final Script append = load("append", true);
    final Script ack = load("ack", true);
    final Script update = load("update", true);
    final Script messageIds = load("message_ids", true);
    final Script release = load("release", true);
    final Script claim = load("claim", false);
    final Script end = load("end", true);
    final Script discard = load("discard", true);
    final Script queue = load("queue", true);
    final Script admit = load("admit", false);

    /** Runs {@code script}; resolves to what it returned, as Lettuce decodes {@code type}. */
    static <T> CompletionStage<T> run(
            RedisScriptingAsyncCommands<String, byte[]> redis,
            Script script,
            ScriptOutputType type,
            String[] keys,
            byte[]... args) {
        CompletionStage<T> bySha = redis.evalsha(script.sha(), type, keys, args);
        return bySha.handle((result, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(result);
                    }
                    Throwable cause = cause(failure);
                    if (cause instanceof RedisNoScriptException) {
                        return redis.<T>eval(script.text(), type, keys, args).toCompletableFuture();
                    }
                    return CompletableFuture.<T>failedFuture(cause);
                })
                .thenCompose(stage -> stage);
    }

    /** What failed: {@code failure} itself, or what a {@link CompletionException} wraps. */
    static Throwable cause(Throwable failure) {
        return failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
    }

    private static Script load(String name, boolean fenced) {
        String text = read(name);
        if (fenced) {
            text = read("fence") + "\n" + text;
        }
        return new Script(name, text, sha1(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static String read(String name) {
        try (InputStream in = Scripts.class.getResourceAsStream(name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("store script " + name + ".lua is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(byte[] text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java runtime", e);
        }
    }
}
