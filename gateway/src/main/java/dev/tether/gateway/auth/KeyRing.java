package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.PeriodicCheck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link TokenVerifier} in force, rebuilt when key files change, so a verification key can be
 * rotated without a restart and without dropping sessions.
 *
 * <p>The ring reads every {@link KeySource} when it is built and fails if any of them holds no
 * usable key. Once {@link #start started}, it checks every file at a fixed interval (size,
 * last-modified time and a SHA-256 of the content). When anything changed it re-reads and re-parses
 * <em>all</em> sources, builds a new verifier and swaps it in whole; if any file is missing or
 * broken (half written, invalid) the keys in force stay, a warning names the file and the reason,
 * and the next check tries again (the warning is not repeated while the files stay as they are).
 * Sessions are unaffected by construction: a token is verified only at the upgrade and at
 * {@code auth_refresh}, and each verification uses the verifier in force at that moment.
 *
 * <p>Threads: {@link #verify} and {@link #current} are lock-free reads of an
 * {@link AtomicReference}, safe on any event loop. Checks run on the injected scheduler (the
 * gateway gives it one daemon thread of its own, never an event loop, since they read files) and
 * are serialised. Logs name files, kids and reasons, never key material or tokens.
 */
public final class KeyRing implements TokenVerification, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KeyRing.class);

    private final List<KeySource> sources;
    private final Set<String> algorithms;
    private final Function<List<PublicKeyEntry>, TokenVerifier> verifiers;
    private final AtomicReference<TokenVerifier> current = new AtomicReference<>();

    /** Serialises checks, start and close; guards every field below. */
    private final Object lock = new Object();
    /** What each source's file held when the verifier in force was built (null for inline PEM). */
    private List<FileStamp> applied;
    /** The file states of the last failed reload, so that one broken state is warned about once. */
    private List<FileStamp> failed;

    private int keyCount;
    private final PeriodicCheck checks = new PeriodicCheck();

    /**
     * Reads every source now and builds the first verifier.
     *
     * @param sources    where the public keys come from, in the order keys are tried
     * @param algorithms the enabled JWA names (JWKs for others are skipped)
     * @param verifiers  builds a verifier for a list of public keys (the other settings, such as the
     *                   HMAC secret, issuer and clock, are the caller's and do not change); throws
     *                   IllegalArgumentException when the keys do not fit together
     * @throws IllegalArgumentException naming the source and the reason, if a source holds no
     *                                  usable key, a file cannot be read, or the keys do not fit
     *                                  together (e.g. a kid used twice)
     */
    public KeyRing(
            List<KeySource> sources, Set<String> algorithms, Function<List<PublicKeyEntry>, TokenVerifier> verifiers) {
        this.sources = List.copyOf(requireNonNull(sources, "sources"));
        this.algorithms = Set.copyOf(requireNonNull(algorithms, "algorithms"));
        this.verifiers = requireNonNull(verifiers, "verifiers");
        Snapshot snapshot = snapshot();
        List<PublicKeyEntry> entries;
        try {
            entries = entries(snapshot);
        } catch (SourceFailure f) {
            throw new IllegalArgumentException(f.describe(), f);
        }
        TokenVerifier first;
        try {
            first = verifiers.apply(entries);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("verification keys: " + e.getMessage(), e);
        }
        synchronized (lock) {
            current.set(first);
            applied = snapshot.stamps();
            keyCount = entries.size();
        }
        if (!entries.isEmpty()) {
            log.info("loaded {} verification keys (kids: {})", entries.size(), kids(entries));
        }
    }

    /** Whether any source is a file, i.e. whether {@link #start} has anything to watch. */
    public boolean watchesFiles() {
        return sources.stream().anyMatch(KeySource::isFile);
    }

    /**
     * Checks the key files every {@code interval} on {@code scheduler}, which stays the caller's
     * (closing the ring cancels the checks, not the scheduler). Does nothing when no source is a file.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start(ScheduledExecutorService scheduler, Duration interval) {
        requireNonNull(scheduler, "scheduler");
        requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
        }
        synchronized (lock) {
            if (!watchesFiles()) {
                checks.requireOpen();
                return;
            }
            checks.start(scheduler, interval, this::checkQuietly);
        }
    }

    /** The verifier in force now; keep it only for one verification, as it may be replaced at any time. */
    public TokenVerifier current() {
        return current.get();
    }

    /** Verifies with the verifier in force now (see {@link TokenVerifier#verify}). */
    @Override
    public VerifiedToken verify(String compactJwt) throws TokenRejectedException {
        return current.get().verify(compactJwt);
    }

    /** Stops the checks; the verifier in force stays usable. */
    @Override
    public void close() {
        synchronized (lock) {
            checks.close();
        }
    }

    /** One check, as the scheduler runs it; tests call it directly instead of waiting. */
    void checkNow() {
        synchronized (lock) {
            if (checks.isClosed()) {
                return;
            }
            Snapshot now = snapshot();
            if (now.stamps().equals(applied)) {
                failed = null;
                return;
            }
            if (now.stamps().equals(failed)) {
                return;
            }
            failed = now.stamps();
            List<PublicKeyEntry> entries;
            TokenVerifier next;
            try {
                entries = entries(now);
                next = verifiers.apply(entries);
            } catch (SourceFailure f) {
                log.warn("{}; keeping the {} verification keys in force", f.describe(), keyCount);
                return;
            } catch (IllegalArgumentException e) {
                log.warn("verification keys not reloaded: {}; keeping the {} keys in force", e.getMessage(), keyCount);
                return;
            }
            current.set(next);
            applied = now.stamps();
            failed = null;
            keyCount = entries.size();
            log.info("reloaded {} verification keys (kids: {})", entries.size(), kids(entries));
        }
    }

    private void checkQuietly() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again; the next check must still happen.
            log.warn("key file check failed: {}", e.toString());
        }
    }

    /** Reads every file source once: its state and its text, or why it could not be read. */
    private Snapshot snapshot() {
        List<FileStamp> stamps = new ArrayList<>(sources.size());
        List<String> texts = new ArrayList<>(sources.size());
        List<String> problems = new ArrayList<>(sources.size());
        for (KeySource source : sources) {
            if (!source.isFile()) {
                stamps.add(null);
                texts.add(source.pem());
                problems.add(null);
                continue;
            }
            try {
                // Attributes before content: a write in between shows as a new time at the next check.
                long size = Files.size(source.file());
                FileTime modified = Files.getLastModifiedTime(source.file());
                byte[] bytes = KeySource.readFile(source.file());
                stamps.add(new FileStamp(size, modified, sha256(bytes)));
                texts.add(new String(bytes, StandardCharsets.UTF_8));
                problems.add(null);
            } catch (IOException e) {
                stamps.add(FileStamp.UNREADABLE);
                texts.add(null);
                problems.add(e instanceof NoSuchFileException ? "no such file" : "cannot be read: " + e);
            } catch (UncheckedIOException e) {
                stamps.add(FileStamp.UNREADABLE);
                texts.add(null);
                problems.add(e.getMessage());
            }
        }
        return new Snapshot(stamps, texts, problems);
    }

    /** Every source's keys, from the texts of one snapshot, in source order. */
    private List<PublicKeyEntry> entries(Snapshot snapshot) throws SourceFailure {
        List<PublicKeyEntry> entries = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            KeySource source = sources.get(i);
            if (snapshot.problems().get(i) != null) {
                throw new SourceFailure(source, snapshot.problems().get(i));
            }
            Consumer<String> skipped = why -> log.info("{}: {}", where(source), why);
            try {
                entries.addAll(source.parse(snapshot.texts().get(i), algorithms, skipped));
            } catch (IllegalArgumentException e) {
                throw new SourceFailure(source, e.getMessage());
            }
        }
        return entries;
    }

    private static String kids(List<PublicKeyEntry> entries) {
        return entries.stream().map(e -> e.kid() == null ? "(none)" : e.kid()).collect(Collectors.joining(", "));
    }

    private static String where(KeySource source) {
        return source.isFile() ? "key file " + source.file() + " (" + source.name() + ")" : source.name();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** A file's state at one check; {@link #UNREADABLE} for a file that is gone or cannot be read. */
    private record FileStamp(long size, FileTime modified, String sha256) {
        static final FileStamp UNREADABLE = new FileStamp(-1, null, null);
    }

    /** Per source, in source order: file state (null for inline), text, and why it is unreadable. */
    private record Snapshot(List<FileStamp> stamps, List<String> texts, List<String> problems) {}

    /** A source that holds no usable key right now. */
    private static final class SourceFailure extends Exception {
        private final transient KeySource source;

        SourceFailure(KeySource source, String reason) {
            super(reason, null, false, false);
            this.source = source;
        }

        String describe() {
            return where(source) + ": " + getMessage();
        }
    }
}
