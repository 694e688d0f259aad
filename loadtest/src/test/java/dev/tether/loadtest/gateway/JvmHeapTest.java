package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** GC.heap_info output of the collectors in use, as jcmd prints it. */
class JvmHeapTest {

    @Test
    void g1() {
        String jdk17 = """
                4242:
                 garbage-first heap   total 262144K, used 23456K [0x00000000f0000000, 0x0000000100000000)
                  region size 1024K, 12 young (12288K), 2 survivors (2048K)
                 Metaspace       used 1234K, committed 1408K, reserved 1114112K
                """;
        assertEquals(23456L * 1024, JvmHeap.parseUsedBytes(jdk17));
        String jdk21 = " garbage-first heap   total reserved 1048576K, committed 65536K, used 4051K [0x0, 0x1)\n";
        assertEquals(4051L * 1024, JvmHeap.parseUsedBytes(jdk21));
    }

    @Test
    void parallelSumsTheGenerationsNotMetaspace() {
        String text = """
                 PSYoungGen      total 76288K, used 3932K [0x0, 0x1, 0x2)
                  eden space 65536K, 6% used [0x0,0x1,0x2)
                 ParOldGen       total 175104K, used 100K [0x0, 0x1, 0x2)
                 Metaspace       used 5000K, committed 5120K, reserved 1056768K
                """;
        assertEquals((3932L + 100) * 1024, JvmHeap.parseUsedBytes(text));
    }

    @Test
    void serialAndZgc() {
        assertEquals(
                (10L + 20) * 1024,
                JvmHeap.parseUsedBytes(
                        " def new generation   total 9216K, used 10K [0x0)\n tenured generation   total 20480K, used 20K [0x0)\n"));
        assertEquals(
                12L * 1024 * 1024,
                JvmHeap.parseUsedBytes(" ZHeap           used 12M, capacity 64M, max capacity 1024M\n"));
    }

    @Test
    void unknownTextIsNull() {
        assertNull(JvmHeap.parseUsedBytes("4242:\nsomething else entirely\n"));
    }
}
