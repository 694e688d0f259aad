package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@link ControlGroups} puts worker groups, read from {@code /proc/self/cgroup} and {@code mountinfo} lines. */
class ControlGroupsTest {

    private static final String V1_MOUNTS = """
            30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            38 30 0:34 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            41 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;

    @TempDir
    Path tmp;

    @Test
    void cgroupV1PutsGroupsBelowTheGatewaysOwnInTheMemoryAndPidsHierarchies() throws IOException {
        ControlGroups groups = ControlGroups.find(
                List.of("8:pids:/", "4:memory:/process_api/abc", "1:cpu:/", "0::/"),
                V1_MOUNTS.lines().toList(),
                () -> 1);
        assertEquals(
                "cgroup v1, memory below /sys/fs/cgroup/memory/process_api/abc, pids below /sys/fs/cgroup/pids",
                groups.describe());
        assertTrue(groups.limitsProcesses());
    }

    @Test
    void aV1MemoryHierarchyMountedFromAGroupIsReadRelativeToIt() throws IOException {
        // In a container the hierarchy is mounted from the container's group: paths are below it.
        ControlGroups groups = ControlGroups.find(
                List.of("4:memory:/docker/c1/app"),
                List.of("34 30 0:30 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory"),
                () -> 1);
        assertEquals(
                "cgroup v1, memory below /sys/fs/cgroup/memory/app (no pids controller: max_processes is RLIMIT_NPROC)",
                groups.describe());
        assertFalse(groups.limitsProcesses());
    }

    @Test
    void cgroupV2UsesTheGatewaysParentWhenMemoryIsDelegatedThere() throws IOException {
        Path service = Files.createDirectories(tmp.resolve("svc/gateway"));
        Files.writeString(service.getParent().resolve("cgroup.subtree_control"), "memory pids\n");
        Files.writeString(service.resolve("cgroup.subtree_control"), "\n");
        ControlGroups groups = ControlGroups.find(
                List.of("0::/svc/gateway"), List.of("25 20 0:23 / " + tmp + " rw - cgroup2 cgroup2 rw"), () -> 1);
        assertEquals(
                "cgroup v2, memory below " + tmp.resolve("svc") + ", pids below " + tmp.resolve("svc"),
                groups.describe());
    }

    @Test
    void cgroupV2WithoutTheMemoryControllerDelegatedIsRefusedSayingWhy() throws IOException {
        Files.createDirectories(tmp.resolve("user.slice/gateway"));
        IOException refused = assertThrows(
                IOException.class,
                () -> ControlGroups.find(
                        List.of("0::/user.slice/gateway"),
                        List.of("25 20 0:23 / " + tmp + " rw - cgroup2 cgroup2 rw"),
                        () -> 1));
        assertTrue(refused.getMessage().contains("memory controller delegated"), refused.getMessage());
    }

    @Test
    void noCgroupMountIsRefusedSayingWhy() {
        IOException refused = assertThrows(
                IOException.class,
                () -> ControlGroups.find(List.of("0::/"), List.of("22 1 8:1 / / rw - ext4 /dev/sda1 rw"), () -> 1));
        assertTrue(refused.getMessage().contains("no memory controller"), refused.getMessage());
    }

    @Test
    void pollMakesNoGroups() {
        ControlGroups.Choice choice = ControlGroups.choose("poll", () -> 1);
        assertNull(choice.groups());
        assertEquals("worker.process.limit_enforcement is poll", choice.why());
    }
}
