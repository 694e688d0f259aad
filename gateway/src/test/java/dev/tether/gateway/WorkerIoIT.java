package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.ProcFs;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Poll;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The worker I/O path with real subprocesses (small POSIX shell workers, and the demo worker where
 * a JVM is needed), through a real gateway: output that arrives in pieces, a worker that never
 * reads its stdin, one that closes its stdio and lives on, one that dies in the middle of a line,
 * hundreds of concurrent workers on a flat thread count, a thousand sessions that leave no file
 * descriptor behind, and backpressure from a client that does not read down to the worker.
 */
class WorkerIoIT {

    private static final WireCodec CODEC = new WireCodec();

    /** Prints ready; for each message, the script's {@code TURN} lines; exits on shutdown or end of input. */
    private static String shellWorker(String turn) {
        String script = "printf '{\"type\":\"ready\"}\\n'; "
                + "while IFS= read -r line; do case \"$line\" in "
                + "*'\"type\":\"message\"'*) id=${line#*'\"id\":\"'}; id=${id%%'\"'*}; " + turn + " ;; "
                + "*'\"type\":\"shutdown\"'*) exit 0 ;; esac; done";
        return "[\"/bin/sh\", \"-c\", " + jsonString(script) + "]";
    }

    private static String jsonString(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static GatewayExtension gatewayWith(String marker, String command) {
        return DemoWorkers.gateway(marker, """
                worker:
                  process:
                    command: %s
                    stop_grace: 300ms
                    kill_grace: 300ms
                pool:
                  min_idle: 0
                  max_workers: 700
                sessions:
                  max_sessions: 2000
                  max_sessions_per_user: 2000
                """.formatted(command));
    }

    /** Answers each message with a result whose line comes in three pieces, 50 ms apart. */
    @RegisterExtension
    static final GatewayExtension pieces = gatewayWith(
            "io-pieces",
            shellWorker("printf '{\"type\":\"result\",'; sleep 0.05; printf '\"id\":\"%s\",' \"$id\"; sleep 0.05; "
                    + "printf '\"text\":\"whole\"}\\n'"));

    /** Never reads its stdin. */
    @RegisterExtension
    static final GatewayExtension deaf = gatewayWith(
            "io-deaf", "[\"/bin/sh\", \"-c\", \"printf '{\\\"type\\\":\\\"ready\\\"}\\\\n'; exec sleep 3600\"]");

    /** Closes stdin and stdout after ready, and lives on. */
    @RegisterExtension
    static final GatewayExtension mute = gatewayWith(
            "io-mute",
            "[\"/bin/sh\", \"-c\", \"printf '{\\\"type\\\":\\\"ready\\\"}\\\\n'; exec 0<&- 1>&-; sleep 3600\"]");

    /** Dies with exit code 3 in the middle of its answer's line. */
    @RegisterExtension
    static final GatewayExtension midLine =
            gatewayWith("io-midline", shellWorker("printf '{\"type\":\"delta\",\"id\":\"%s\",\"te' \"$id\"; exit 3"));

    /** Answers every message at once. */
    @RegisterExtension
    static final GatewayExtension quick = gatewayWith(
            "io-quick", shellWorker("printf '{\"type\":\"result\",\"id\":\"%s\",\"text\":\"ok\"}\\n' \"$id\""));

    /** Demo workers (for a real flood), a small outbound bound so a client that does not read is soon unwritable. */
    @RegisterExtension
    static final GatewayExtension flood = DemoWorkers.gateway("io-flood", """
            abuse:
              outbound_high_water: 64KiB
              max_outbound_bytes: 1GiB
              outbound_stall_timeout: 10m
            sessions:
              replay_max_bytes: 64MiB
            """);

    @Test
    void aLineThatArrivesInPiecesIsOneEvent() {
        try (SessionClient c = SessionClient.openIdle(pieces, "pieces")) {
            List<ServerMessage> turn = c.roundTrip("p1", "\"x\"");
            assertEquals(List.of("status:processing", "event:result:p1", "status:idle"), historyTags(turn));
            assertEquals(
                    "whole", SessionClient.event(turn, "result").path("text").asText());
        }
    }

    @Test
    void aWorkerThatNeverReadsItsStdinIsKilledAsUnresponsiveAndOthersGoOn() throws Exception {
        try (SessionClient c = SessionClient.openIdle(deaf, "deaf");
                SessionClient other = SessionClient.openIdle(quick, "deaf-neighbour")) {
            c.sendAccepted("big", jsonString("x".repeat(200_000)), 0);
            c.untilTag("status:processing");
            for (int i = 0; i < 1100; i++) {
                c.send(new ClientMessage.Interrupt());
            }
            List<ServerMessage> crashed = c.untilTag("notice:worker_crashed");
            assertTrue(notice(crashed, "worker_crashed").message().contains("unresponsive"), crashed.toString());
            other.roundTrip("still", "\"here\"");
            other.ws.send(new ClientMessage.End()); // so that the other tests count no worker of it
            other.untilTag("status:ended:client_end");
        }
    }

    @Test
    void aWorkerThatClosesItsStdioAndLivesOnIsStillStoppedWithItsTree() throws Exception {
        long pid;
        try (SessionClient c = SessionClient.openIdle(mute, "mute")) {
            pid = SupervisionIT.workerPid(mute, c.sessionId());
            c.sendAccepted("lost", "\"nobody reads this\"", 0);
            c.untilTag("status:processing");
            c.ws.send(new ClientMessage.End());
            c.untilTag("status:ended:client_end");
        }
        Poll.until(
                "the mute worker " + pid + " and its sleep are gone",
                () -> !ProcessTree.running(pid)
                        && DemoWorkers.anywhere("io-mute").isEmpty());
    }

    @Test
    void aWorkerThatDiesInTheMiddleOfALineIsACrashAndTheHalfLineAProtocolError() {
        try (SessionClient c = SessionClient.openIdle(midLine, "midline")) {
            c.sendAccepted("m1", "\"x\"", 0);
            List<ServerMessage> seen = c.untilTag("status:restarting:crash");
            assertEquals(
                    List.of(
                            "status:processing",
                            "notice:worker_protocol_error",
                            "notice:worker_crashed",
                            "status:restarting:crash"),
                    historyTags(seen));
            assertEquals(
                    3,
                    notice(seen, "worker_crashed").details().path("exit_code").asInt());
            c.untilTag("status:idle");
        }
    }

    @Test
    void fiveHundredConcurrentWorkersAddNoThread() throws Exception {
        // Raw sockets, not Tyrus: the client adds no thread of its own, so the JVM's count is the gateway's.
        List<RawSession> sessions = new ArrayList<>();
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        try {
            for (int i = 0; i < 500; i++) {
                sessions.add(RawSession.open(quick, "many-" + i));
            }
            Poll.until("500 workers run", () -> DemoWorkers.anywhere("io-quick").size() >= 500);
            for (RawSession session : sessions) {
                session.roundTrip("m");
            }
            int threadsDuring = ManagementFactory.getThreadMXBean().getThreadCount();
            assertTrue(
                    threadsDuring - threadsBefore <= 10,
                    "threads went from " + threadsBefore + " to " + threadsDuring + " with 500 workers");
        } finally {
            for (RawSession session : sessions) {
                session.end();
            }
        }
        Poll.until("the 500 workers are gone", () -> describe(DemoWorkers.anywhere("io-quick")), String::isEmpty);
    }

    @Test
    void aThousandSessionsLeaveNoFileDescriptorBehind() throws Exception {
        long helper = quick.server().spawnerPid().orElseThrow();
        for (int i = 0; i < 20; i++) {
            oneSession("warm-" + i); // class loading and first-use buffers are not leaks
        }
        Poll.until(
                "the warm-up's workers are gone",
                () -> DemoWorkers.anywhere("io-quick").isEmpty());
        int gatewayBefore = openFiles(ProcessHandle.current().pid());
        int helperBefore = openFiles(helper);
        for (int i = 0; i < 1000; i++) {
            oneSession("fd-" + i);
        }
        Poll.until(
                "the thousand workers are gone",
                () -> DemoWorkers.anywhere("io-quick").isEmpty());
        Poll.until(
                "descriptors of the gateway and its spawner back to " + List.of(gatewayBefore, helperBefore),
                () -> List.of(openFiles(ProcessHandle.current().pid()), openFiles(helper)),
                now -> now.get(0) <= gatewayBefore && now.get(1) == helperBefore);
    }

    @Test
    void aClientThatDoesNotReadPausesAFloodingWorkerWhichBlocksOnItsOwnOutput() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(flood.address(), "/ws", flood.token("slow-reader"), 4096)) {
            ServerMessage.SessionReady ready = (ServerMessage.SessionReady)
                    CODEC.decodeServer(raw.readFrame().text());
            long pid = SupervisionIT.workerPid(flood, ready.sessionId());
            raw.sendText(CODEC.encode(
                    new ClientMessage.Message("flood", CODEC.mapper().readTree("{\"flood\":300000,\"deltas\":0}"))));
            // The client reads nothing: its connection fills, then the worker's output is no longer read.
            Poll.until("the worker " + pid + " blocks writing its output", () -> ProcFs.blockedOnSocketWrite(pid));
            // Now it reads everything: the whole flood and the result arrive.
            int events = 0;
            while (true) {
                ServerMessage m = CODEC.decodeServer(raw.readFrame().text());
                if (m instanceof ServerMessage.Event e) {
                    if ("result".equals(e.event().path("type").asText())) {
                        break;
                    }
                    events++;
                }
            }
            assertEquals(300_000, events);
        }
    }

    // ---- helpers ----

    private static void oneSession(String subject) throws IOException {
        RawSession session = RawSession.open(quick, subject);
        session.roundTrip("m");
        session.end();
    }

    /** A session over a plain socket (no client threads): open, one turn, end. */
    private record RawSession(RawWebSocket ws) {
        static RawSession open(GatewayExtension gateway, String subject) throws IOException {
            RawWebSocket ws = RawWebSocket.connect(gateway.address(), "/ws", gateway.token(subject));
            assertTrue(CODEC.decodeServer(ws.readFrame().text()) instanceof ServerMessage.SessionReady);
            return new RawSession(ws);
        }

        /** Sends message {@code id} and reads until its result. */
        void roundTrip(String id) throws IOException {
            ws.sendText(CODEC.encode(new ClientMessage.Message(
                    id, CODEC.mapper().getNodeFactory().textNode("hi"))));
            while (true) {
                if (CODEC.decodeServer(ws.readFrame().text()) instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText())) {
                    return;
                }
            }
        }

        /** Sends {@code end} and waits for the close that follows it. */
        void end() throws IOException {
            ws.sendText(CODEC.encode(new ClientMessage.End()));
            assertEquals(1000, ws.awaitCloseCode());
            ws.close();
        }
    }

    /** The workers of {@code pids} still running, or "" once none is (what the poll waits for). */
    private static String describe(Set<Long> pids) {
        if (pids.isEmpty()) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        for (long pid : pids) {
            text.append(pid)
                    .append(' ')
                    .append(ProcessHandle.of(pid)
                            .flatMap(p -> p.info().commandLine())
                            .orElse("?"))
                    .append('\n');
            if (text.length() > 2000) {
                break;
            }
        }
        return pids.size() + " left:\n" + text;
    }

    private static int openFiles(long pid) {
        String[] entries = new File("/proc/" + pid + "/fd").list();
        return entries == null ? -1 : entries.length;
    }
}
