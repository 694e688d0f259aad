package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.session.SessionIds;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SeqAudit;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import dev.tether.testkit.TcpRelay;
import jakarta.websocket.CloseReason;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contract section 3 (resume and replay) and the session rules behind it, against real gateways
 * over real sockets: what a new and a resumed connection see, exactly-once delivery across a
 * disconnect (clean or abrupt), replay gaps, refused resumes (bad sequence, unknown, foreign and
 * expired sessions), takeover, racing resumes, and a detached session that keeps working.
 */
class ResumeIT {

    /** Echo worker: 3 deltas, no pause. A turn from idle is seqs processing, 3 deltas, result, idle. */
    @RegisterExtension
    static final GatewayExtension fast = GatewayExtension.withDefaults();

    /** Echo worker: 20 deltas 20ms apart, so a reply is still streaming when the client goes away. */
    @RegisterExtension
    static final GatewayExtension streaming = GatewayExtension.withConfig("""
            worker:
              echo:
                deltas: 20
                delta_interval: 20ms
            """);

    /** A replay buffer of 5 messages: one turn (6 seqs) already evicts. */
    @RegisterExtension
    static final GatewayExtension smallBuffer = GatewayExtension.withConfig("""
            sessions:
              replay_max_messages: 5
            """);

    /** Detached sessions end after 300ms. */
    @RegisterExtension
    static final GatewayExtension shortWindow = GatewayExtension.withConfig("""
            sessions:
              reconnect_window: 300ms
            """);

    private static final int FAST_TURN = 6;
    private static final int STREAMING_TURN = 23;
    private static final int RACERS = 50;
    private static final int RACE_ROUNDS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    // ---- a new session ----

    @Test
    void newSessionStartsWithSessionReadyAndHistoryFromOne() throws IOException {
        String token = fast.token(newSubject());
        try (TestClient client = TestClient.connect(fast.uri(), token)) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed());
            assertEquals(0, ready.lastSeq());
            assertEquals(SessionState.IDLE, ready.state());
            assertEquals(expiry(token), ready.tokenExpiresAt());
            assertTrue(ready.sessionId().matches("[A-Za-z0-9_-]{22}"), ready.sessionId());

            client.send(message("m1", "hello"));
            assertEquals(new ServerMessage.Accepted("m1", false, 0), client.next());
            SeqAudit.assertRange("first turn", SeqAudit.seqs(untilTurnEnds(client, "m1")), 1, FAST_TURN);
        }
    }

    // ---- disconnect in the middle of a reply ----

    @Test
    void cleanCloseInTheMiddleOfAReplyThenResumeDeliversEverySeqExactlyOnce() {
        String token = streaming.token(newSubject());
        SeqAudit audit = new SeqAudit();
        String id;
        try (TestClient first = TestClient.connect(streaming.uri(), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "the quick brown fox jumps over the lazy dog"));
            List<ServerMessage> seen = new ArrayList<>(first.until(ResumeIT::isDelta));
            first.close();
            assertEquals(CloseCode.NORMAL.code(), first.awaitCloseCode());
            seen.addAll(first.drain());
            audit.record("first", seen);
        }
        resumeAndFinish(streaming, token, id, audit, "m1");
    }

    /**
     * The same with a connection that dies without any close frame: a TCP relay resets both sides
     * (Tyrus itself always sends a close frame when its session is closed).
     */
    @Test
    void abruptDropInTheMiddleOfAReplyThenResumeDeliversEverySeqExactlyOnce() throws IOException {
        String token = streaming.token(newSubject());
        SeqAudit audit = new SeqAudit();
        String id;
        try (TcpRelay relay = new TcpRelay(streaming.address());
                TestClient first = TestClient.connect(relay.via(streaming.uri()), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "the quick brown fox jumps over the lazy dog"));
            List<ServerMessage> seen = new ArrayList<>(first.until(ResumeIT::isDelta));
            relay.reset();
            Poll.until("the client notices the dropped connection", () -> !first.isOpen());
            seen.addAll(first.drain());
            audit.record("first", seen);
        }
        resumeAndFinish(streaming, token, id, audit, "m1");
    }

    /** Resumes after the newest seq in {@code audit}; the reply to {@code messageId} then completes exactly once. */
    private static void resumeAndFinish(
            GatewayExtension gateway, String token, String id, SeqAudit audit, String messageId) {
        long last = audit.newest();
        try (TestClient second = TestClient.connect(gateway.resumeUri(id, last), token)) {
            ServerMessage.SessionReady ready = second.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(id, ready.sessionId());
            assertTrue(ready.lastSeq() >= last, "newest " + ready.lastSeq() + " behind the client's " + last);
            List<ServerMessage> rest = untilTurnEnds(second, messageId);
            assertFalse(rest.stream().anyMatch(ServerMessage.ReplayGap.class::isInstance), rest.toString());
            audit.record("second", rest);
        }
        audit.assertExactlyOnce(1, STREAMING_TURN);
    }

    // ---- what a resume replays ----

    @Test
    void resumeFromTheNewestSeqReplaysNothingAndFromZeroReplaysEverything() {
        String token = fast.token(newSubject());
        List<ServerMessage> history = new ArrayList<>();
        String id;
        try (TestClient first = TestClient.connect(fast.uri(), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "one"));
            history.addAll(sequenced(untilTurnEnds(first, "m1")));
        }
        try (TestClient second = TestClient.connect(fast.resumeUri(id, FAST_TURN), token)) {
            ServerMessage.SessionReady ready = second.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(FAST_TURN, ready.lastSeq());
            assertEquals(SessionState.IDLE, ready.state());
            second.send(new ClientMessage.Ping());
            assertInstanceOf(ServerMessage.Pong.class, second.next(), "nothing is replayed");

            second.send(message("m2", "two"));
            assertEquals(new ServerMessage.Accepted("m2", false, 0), second.next());
            List<ServerMessage> live = sequenced(untilTurnEnds(second, "m2"));
            SeqAudit.assertRange("live after the resume", SeqAudit.seqs(live), FAST_TURN + 1, 2 * FAST_TURN);
            history.addAll(live);

            try (TestClient third = TestClient.connect(fast.resumeUri(id, 0), token)) {
                ServerMessage.SessionReady again = third.expect(ServerMessage.SessionReady.class);
                assertEquals(2 * FAST_TURN, again.lastSeq());
                third.send(new ClientMessage.Ping());
                List<ServerMessage> replay = third.until(ServerMessage.Pong.class::isInstance);
                assertEquals(history, replay.subList(0, replay.size() - 1), "the whole history, as first sent");
                assertTakenOver(second);
            }
        }
    }

    @Test
    void resumeBehindEvictedHistoryGetsReplayGapBeforeTheKeptSeqs() {
        String token = smallBuffer.token(newSubject());
        String id;
        try (TestClient first = TestClient.connect(smallBuffer.uri(), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "one"));
            SeqAudit.assertRange("first turn", SeqAudit.seqs(untilTurnEnds(first, "m1")), 1, FAST_TURN);
            // The second turn runs as the connection goes away. Closing only once it is accepted
            // keeps the test independent of how Tyrus orders a pending send and a close.
            first.send(message("m2", "two"));
            assertEquals(new ServerMessage.Accepted("m2", false, 0), first.next());
        }
        long newest = 2 * FAST_TURN;
        long kept = newest - 5 + 1;
        try (TestClient resumed = resumeOnceNewestIs(smallBuffer, token, id, 2, newest)) {
            assertEquals(new ServerMessage.ReplayGap(3, kept - 1), resumed.next());
            resumed.send(new ClientMessage.Ping());
            List<ServerMessage> replay = resumed.until(ServerMessage.Pong.class::isInstance);
            SeqAudit.assertRange("kept history", SeqAudit.seqs(replay), kept, newest);
            assertEquals(replay.size() - 1, SeqAudit.seqs(replay).size(), "only history before the pong: " + replay);

            // Behind the kept history by exactly nothing: no gap.
            try (TestClient exact = TestClient.connect(smallBuffer.resumeUri(id, kept - 1), token)) {
                exact.expect(ServerMessage.SessionReady.class);
                exact.send(new ClientMessage.Ping());
                List<ServerMessage> all = exact.until(ServerMessage.Pong.class::isInstance);
                assertInstanceOf(ServerMessage.Sequenced.class, all.get(0), "no gap: " + all);
                SeqAudit.assertRange("kept history", SeqAudit.seqs(all), kept, newest);
            }
        }
    }

    @Test
    void resumeBehindAcknowledgedHistoryGetsReplayGap() {
        String token = fast.token(newSubject());
        String id;
        try (TestClient first = TestClient.connect(fast.uri(), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "one"));
            untilTurnEnds(first, "m1");
            first.send(new ClientMessage.Ack(4));
            first.send(new ClientMessage.Ping());
            assertInstanceOf(ServerMessage.Pong.class, first.next(), "the ack is taken silently");
        }
        try (TestClient second = TestClient.connect(fast.resumeUri(id, 2), token)) {
            assertEquals(
                    FAST_TURN, second.expect(ServerMessage.SessionReady.class).lastSeq());
            assertEquals(new ServerMessage.ReplayGap(3, 4), second.next());
            second.send(new ClientMessage.Ping());
            List<ServerMessage> replay = second.until(ServerMessage.Pong.class::isInstance);
            assertEquals(List.of(5L, 6L), SeqAudit.seqs(replay));
        }
        try (TestClient third = TestClient.connect(fast.resumeUri(id, 4), token)) {
            third.expect(ServerMessage.SessionReady.class);
            third.send(new ClientMessage.Ping());
            List<ServerMessage> replay = third.until(ServerMessage.Pong.class::isInstance);
            assertEquals(3, replay.size(), "no gap after the acknowledged seq: " + replay);
            assertEquals(List.of(5L, 6L), SeqAudit.seqs(replay));
        }
    }

    // ---- refused resumes ----

    @Test
    void resumeAheadOfTheNewestSeqIsRefusedAndTheAttachedConnectionGoesOn() {
        String token = streaming.token(newSubject());
        try (TestClient owner = TestClient.connect(streaming.uri(), token)) {
            String id = owner.expect(ServerMessage.SessionReady.class).sessionId();
            owner.send(message("m1", "still streaming"));
            List<ServerMessage> seen = new ArrayList<>(owner.until(ResumeIT::isDelta));

            Refusal ahead = refusal(streaming.resumeUri(id, 1_000_000), token);
            assertEquals(ErrorCode.INVALID_SEQUENCE, ahead.error().code());
            assertEquals(CloseCode.INVALID_SEQUENCE.code(), ahead.closeCode());

            seen.addAll(untilTurnEnds(owner, "m1"));
            SeqAudit.assertRange("the owner's view", SeqAudit.seqs(seen), 1, STREAMING_TURN);

            // Idle now: one beyond the newest seq is still ahead.
            Refusal oneAhead = refusal(streaming.resumeUri(id, STREAMING_TURN + 1), token);
            assertEquals(ErrorCode.INVALID_SEQUENCE, oneAhead.error().code());
            assertEquals(CloseCode.INVALID_SEQUENCE.code(), oneAhead.closeCode());

            assertStillOwns(owner);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "1.5", "99999999999999999999", "9223372036854775808", "1e3", ""})
    void malformedLastSeqIsInvalidSequence(String lastSeq) {
        String token = fast.token(newSubject());
        try (TestClient owner = TestClient.connect(fast.uri(), token)) {
            String id = owner.expect(ServerMessage.SessionReady.class).sessionId();
            Refusal refusal = refusal(URI.create(fast.uri() + "?session=" + id + "&last_seq=" + lastSeq), token);
            assertEquals(ErrorCode.INVALID_SEQUENCE, refusal.error().code());
            assertEquals(CloseCode.INVALID_SEQUENCE.code(), refusal.closeCode());
            assertStillOwns(owner);
        }
    }

    @Test
    void unknownMalformedAndForeignSessionsAreAnsweredAlike() {
        String aliceToken = fast.token(newSubject());
        String malloryToken = fast.token(newSubject());
        try (TestClient alice = TestClient.connect(fast.uri(), aliceToken)) {
            String id = alice.expect(ServerMessage.SessionReady.class).sessionId();
            alice.send(message("m1", "mine"));
            untilTurnEnds(alice, "m1");

            Refusal unknown = refusal(fast.resumeUri(randomSessionId(), 0), malloryToken);
            assertEquals(ErrorCode.SESSION_NOT_FOUND, unknown.error().code());
            assertEquals(CloseCode.SESSION_NOT_FOUND.code(), unknown.closeCode());

            assertEquals(
                    unknown,
                    refusal(URI.create(fast.uri() + "?session=not-a-session&last_seq=0"), malloryToken),
                    "malformed id");
            assertEquals(unknown, refusal(fast.resumeUri(id, 0), malloryToken), "another user's live session");
            assertEquals(
                    unknown,
                    refusal(fast.resumeUri(id, 999), malloryToken),
                    "another user's session with a last_seq it has not reached");
            assertEquals(
                    unknown,
                    refusal(URI.create(fast.uri() + "?session=" + id + "&last_seq=abc"), malloryToken),
                    "another user's session with a malformed last_seq");

            assertStillOwns(alice);
        }
    }

    @Test
    void sessionExpiresAfterTheReconnectWindow() {
        String aliceToken = shortWindow.token(newSubject());
        String malloryToken = shortWindow.token(newSubject());
        String id;
        try (TestClient alice = TestClient.connect(shortWindow.uri(), aliceToken)) {
            id = alice.expect(ServerMessage.SessionReady.class).sessionId();
        }
        Poll.until(
                "the detached session ends",
                () -> shortWindow.server().registry().get(id).isEmpty());

        Refusal expired = refusal(shortWindow.resumeUri(id, 0), aliceToken);
        assertEquals(ErrorCode.SESSION_EXPIRED, expired.error().code());
        assertEquals("reconnect_window_expired", expired.error().reason());
        assertEquals(CloseCode.SESSION_NOT_FOUND.code(), expired.closeCode());

        Refusal unknown = refusal(shortWindow.resumeUri(randomSessionId(), 0), malloryToken);
        assertEquals(unknown, refusal(shortWindow.resumeUri(id, 0), malloryToken), "another user's ended session");
        assertEquals(ErrorCode.SESSION_NOT_FOUND, unknown.error().code());
    }

    // ---- takeover ----

    @Test
    void takeoverReplacesTheFirstConnection() {
        String token = streaming.token(newSubject());
        SeqAudit audit = new SeqAudit();
        try (TestClient first = TestClient.connect(streaming.uri(), token)) {
            String id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "streaming while taken over"));
            List<ServerMessage> processed = new ArrayList<>(first.until(ResumeIT::isDelta));
            processed.addAll(first.drain());
            audit.record("first", processed);
            long lastSeen = audit.newest();

            try (TestClient second = TestClient.connect(streaming.resumeUri(id, lastSeen), token)) {
                ServerMessage.SessionReady ready = second.expect(ServerMessage.SessionReady.class);
                assertTrue(ready.resumed());

                List<ServerMessage> tail = assertTakenOver(first);
                List<Long> firstSeqs = new ArrayList<>(SeqAudit.seqs(processed));
                firstSeqs.addAll(SeqAudit.seqs(tail));
                SeqAudit.assertConsecutive("first connection", firstSeqs);

                audit.record("second", untilTurnEnds(second, "m1"));
                second.send(message("m2", "after the takeover"));
                assertEquals(new ServerMessage.Accepted("m2", false, 0), second.next());
                audit.record("second", untilTurnEnds(second, "m2"));
                audit.assertExactlyOnce(1, 2 * STREAMING_TURN);
            }
        }
    }

    /**
     * Fifty resumes of one session released together, five times over, while replies stream: one
     * connection ends up owning the session; every other one was told it was replaced; and the
     * client's view (its seqs up to the race, then the winner's) has every seq exactly once.
     */
    @Test
    void parallelResumesLeaveExactlyOneOwner() throws Exception {
        String token = streaming.token(newSubject());
        SeqAudit audit = new SeqAudit();
        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        List<TestClient> everyone = new ArrayList<>();
        try {
            TestClient owner = TestClient.connect(streaming.uri(), token);
            everyone.add(owner);
            String ownerName = "initial";
            String id = owner.expect(ServerMessage.SessionReady.class).sessionId();
            for (int round = 1; round <= RACE_ROUNDS; round++) {
                // Keep a stream running through the race: two turns, the second queued.
                String a = "r" + round + "a";
                String b = "r" + round + "b";
                owner.send(message(a, "round " + round + " first"));
                owner.send(message(b, "round " + round + " second"));
                List<ServerMessage> processed = new ArrayList<>(owner.until(ResumeIT::isDelta));
                processed.addAll(owner.drain());
                audit.record(ownerName, processed);
                long lastSeen = audit.newest();

                CyclicBarrier start = new CyclicBarrier(RACERS);
                List<Future<TestClient>> futures = new ArrayList<>();
                URI resume = streaming.resumeUri(id, lastSeen);
                for (int i = 0; i < RACERS; i++) {
                    futures.add(pool.submit(() -> {
                        start.await(TestClient.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                        return TestClient.connect(resume, token);
                    }));
                }
                List<TestClient> racers = new ArrayList<>();
                for (Future<TestClient> future : futures) {
                    racers.add(future.get(2 * TestClient.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                }
                everyone.addAll(racers);
                List<TestClient> contenders = new ArrayList<>(racers);
                contenders.add(owner);
                Poll.until(
                        "all but one of the " + contenders.size() + " connections are replaced",
                        () -> contenders.stream().filter(c -> !c.isOpen()).count() == contenders.size() - 1);
                TestClient winner = contenders.stream()
                        .filter(TestClient::isOpen)
                        .findFirst()
                        .orElseThrow();
                assertNotEquals(owner, winner, "the first connection cannot win: every resume attached after it");

                List<ServerMessage> tail = assertTakenOver(owner);
                SeqAudit.assertConsecutive(
                        "round " + round + " old owner", concat(SeqAudit.seqs(processed), SeqAudit.seqs(tail)));
                for (TestClient loser : racers) {
                    if (loser != winner) {
                        assertLostRace(loser, lastSeen);
                    }
                }

                String winnerName = "round " + round + " winner";
                ServerMessage.SessionReady ready = winner.expect(ServerMessage.SessionReady.class);
                assertTrue(ready.resumed());
                List<ServerMessage> view = untilTurnEnds(winner, b);
                assertFalse(view.stream().anyMatch(m -> m instanceof ServerMessage.SessionReplaced), view.toString());
                audit.record(winnerName, view);
                assertEquals(
                        lastSeen + 1,
                        audit.seqs(winnerName).get(0),
                        "the winner's replay starts after the client's seq");
                owner = winner;
                ownerName = winnerName;
            }
            // The final owner still owns the session: it can send and get its reply.
            owner.send(message("final", "still mine"));
            assertEquals(new ServerMessage.Accepted("final", false, 0), owner.next());
            audit.record(ownerName, untilTurnEnds(owner, "final"));
            audit.assertExactlyOnce(1, audit.newest());
            assertEquals(
                    (2L * RACE_ROUNDS + 1) * STREAMING_TURN - 2 * RACE_ROUNDS,
                    audit.newest(),
                    "every turn complete (queued turns share their processing/idle status)");
        } finally {
            pool.shutdownNow();
            everyone.forEach(TestClient::close);
        }
    }

    // ---- a detached session keeps working ----

    @Test
    void detachedSessionKeepsRunningAndTheWholeReplyIsReplayed() {
        String token = streaming.token(newSubject());
        SeqAudit audit = new SeqAudit();
        String id;
        List<ServerMessage> seen;
        try (TestClient first = TestClient.connect(streaming.uri(), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "keep going without me"));
            seen = new ArrayList<>(first.until(ServerMessage.Accepted.class::isInstance));
            first.close();
            first.awaitClose();
            seen.addAll(first.drain());
            audit.record("first", seen);
            assertTrue(audit.newest() < STREAMING_TURN, "the reply was still running when the client left");
        }
        long last = audit.newest();
        try (TestClient later = resumeOnceNewestIs(streaming, token, id, last, STREAMING_TURN)) {
            later.send(new ClientMessage.Ping());
            List<ServerMessage> replay = later.until(ServerMessage.Pong.class::isInstance);
            audit.record("later", replay);
            seen.addAll(replay);
            assertEquals(20, seen.stream().filter(ResumeIT::isDelta).count(), seen.toString());
            assertTrue(replay.stream().anyMatch(m -> isResult(m, "m1")), replay.toString());
        }
        audit.assertExactlyOnce(1, STREAMING_TURN);
    }

    // ---- helpers ----

    /** What a refused resume got: its one error frame and the close. */
    private record Refusal(ServerMessage.ErrorFrame error, int closeCode, String closeReason) {}

    private static Refusal refusal(URI uri, String token) {
        try (TestClient client = TestClient.connect(uri, token)) {
            ServerMessage first = client.next();
            ServerMessage.ErrorFrame error =
                    assertInstanceOf(ServerMessage.ErrorFrame.class, first, "no session_ready on a refused resume");
            CloseReason close = client.awaitClose();
            List<ServerMessage> rest = client.drain();
            assertTrue(rest.isEmpty(), "nothing after the error: " + rest);
            return new Refusal(error, close.getCloseCode().getCode(), close.getReasonPhrase());
        }
    }

    /**
     * Resumes {@code id} after {@code lastSeq} again and again until the session's newest seq is
     * {@code newest} (the detached session got there), and returns that connection right after its
     * {@code session_ready}. Earlier attempts are closed at once, so the session spends the wait
     * detached.
     */
    private static TestClient resumeOnceNewestIs(
            GatewayExtension gateway, String token, String id, long lastSeq, long newest) {
        return Poll.present("session " + id + " reaches seq " + newest, () -> {
            TestClient client = TestClient.connect(gateway.resumeUri(id, lastSeq), token);
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            if (ready.lastSeq() == newest) {
                return Optional.of(client);
            }
            assertTrue(ready.lastSeq() < newest, "the session went beyond " + newest + ": " + ready);
            client.close();
            client.awaitClose();
            return Optional.empty();
        });
    }

    /** {@code client} was replaced: what it got before {@code session_replaced}, then close 4001 and nothing more. */
    private static List<ServerMessage> assertTakenOver(TestClient client) {
        List<ServerMessage> before = client.until(ServerMessage.SessionReplaced.class::isInstance);
        assertEquals(CloseCode.SESSION_REPLACED.code(), client.awaitCloseCode());
        assertEquals(List.of(), client.drain(), "nothing after session_replaced");
        return before.subList(0, before.size() - 1);
    }

    /** A racer that did not end up owning: session_ready, a consistent replay, session_replaced, 4001; or only the close. */
    private static void assertLostRace(TestClient loser, long lastSeen) {
        assertEquals(CloseCode.SESSION_REPLACED.code(), loser.awaitCloseCode());
        List<ServerMessage> got = loser.drain();
        if (got.isEmpty()) {
            return;
        }
        ServerMessage.SessionReady ready =
                assertInstanceOf(ServerMessage.SessionReady.class, got.get(0), got.toString());
        assertTrue(ready.resumed());
        assertInstanceOf(ServerMessage.SessionReplaced.class, got.get(got.size() - 1), got.toString());
        List<Long> seqs = SeqAudit.seqs(got);
        if (!seqs.isEmpty()) {
            assertEquals(lastSeen + 1, seqs.get(0), "a racer's replay starts after last_seq: " + got);
            SeqAudit.assertConsecutive("racer", seqs);
        }
        for (ServerMessage message : got.subList(1, got.size() - 1)) {
            assertInstanceOf(ServerMessage.Sequenced.class, message, "only history between ready and replaced: " + got);
        }
    }

    /** {@code client} is still attached: a ping is answered, and nothing else arrived meanwhile. */
    private static void assertStillOwns(TestClient client) {
        client.send(new ClientMessage.Ping());
        assertInstanceOf(ServerMessage.Pong.class, client.next());
        assertTrue(client.isOpen());
    }

    /** Messages up to the end of the turn of {@code id}: its result, then the next {@code status idle}. */
    private static List<ServerMessage> untilTurnEnds(TestClient client, String id) {
        List<ServerMessage> messages = new ArrayList<>(client.until(m -> isResult(m, id)));
        messages.addAll(client.until(ResumeIT::isIdle));
        return messages;
    }

    private static List<ServerMessage> sequenced(List<ServerMessage> messages) {
        return messages.stream()
                .filter(ServerMessage.Sequenced.class::isInstance)
                .toList();
    }

    private static List<Long> concat(List<Long> a, List<Long> b) {
        List<Long> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static boolean isDelta(ServerMessage message) {
        return message instanceof ServerMessage.Event e
                && "delta".equals(e.event().path("type").asText());
    }

    private static boolean isResult(ServerMessage message, String id) {
        return message instanceof ServerMessage.Event e
                && "result".equals(e.event().path("type").asText())
                && id.equals(e.event().path("id").asText());
    }

    private static boolean isIdle(ServerMessage message) {
        return message instanceof ServerMessage.Status s && s.state() == SessionState.IDLE;
    }

    private static ClientMessage.Message message(String id, String text) {
        return new ClientMessage.Message(id, TextNode.valueOf(text));
    }

    private static String newSubject() {
        return "user-" + UUID.randomUUID();
    }

    private static String randomSessionId() {
        return new SessionIds(new SecureRandom()).next();
    }

    /** The {@code exp} claim of a compact JWT. */
    private static long expiry(String jwt) throws IOException {
        String payload = new String(Base64.getUrlDecoder().decode(jwt.split("\\.", -1)[1]), StandardCharsets.UTF_8);
        JsonNode exp = JSON.readTree(payload).get("exp");
        if (exp == null || !exp.canConvertToLong()) {
            fail("token without a numeric exp: " + payload);
        }
        return exp.asLong();
    }
}
