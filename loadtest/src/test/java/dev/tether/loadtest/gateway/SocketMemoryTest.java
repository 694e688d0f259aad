package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SocketMemoryTest {

    private static final List<String> SS = List.of(
            "ESTAB 0 0 127.0.0.1:8080 127.0.0.1:40000 users:((\"java\",pid=100,fd=27))",
            "\t skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0) ",
            "ESTAB 512 0 127.0.0.1:8080 127.0.0.1:40002 users:((\"java\",pid=100,fd=28))",
            "\t skmem:(r1280,rb131072,t0,tb2626560,f2816,w0,o0,bl0,d0)",
            "ESTAB 0 0 127.0.0.1:40000 127.0.0.1:8080 users:((\"java\",pid=200,fd=9))",
            "\t skmem:(r9999,rb131072,t9999,tb2626560,f0,w0,o0,bl0,d0)",
            "u_str ESTAB 0 0 /tmp/s 7 * 8 users:((\"java\",pid=100,fd=30),(\"worker\",pid=300,fd=1)) skmem:(r0,rb212992,t768,tb212992,f0,w0,o0,bl0,d0)",
            "tcp LISTEN 0 128 0.0.0.0:2024 0.0.0.0:* ",
            "\t skmem:(r4096,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)");

    @Test
    void sumsTheQueuesAndOptionsOfTheProcesssSocketsNotTheirLimitsNorOtherProcesses() {
        SocketMemory gateway = SocketMemory.parse(SS, 100);
        assertEquals(3, gateway.sockets());
        assertEquals(1280 + 2816 + 768, gateway.bytes());
        assertEquals(
                new SocketMemory(1, 768),
                SocketMemory.parse(SS, 300),
                "a socket shared by two processes counts for both");
        assertEquals(new SocketMemory(0, 0), SocketMemory.parse(SS, 1));
    }
}
