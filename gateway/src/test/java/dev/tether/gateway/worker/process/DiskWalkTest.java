package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskWalkTest {

    private static final long BLOCK = 4096;

    @TempDir
    Path dir;

    /** Runs passes until one completes, each call within {@code budget}; returns the total. */
    private static long measure(DiskWalk walk, int budget) {
        for (int calls = 0; calls < 1_000_000; calls++) {
            DiskWalk.Step step = walk.advance(budget);
            assertTrue(step.visited() <= budget, "visited " + step.visited() + " > " + budget);
            if (step.complete()) {
                return step.bytes();
            }
        }
        throw new AssertionError("the pass never completed");
    }

    private long directorySize(Path d) throws IOException {
        return ((Files.size(d) + BLOCK - 1) / BLOCK) * BLOCK;
    }

    @Test
    void countsFilesRoundedUpToBlocksInNestedDirectories() throws IOException {
        Files.write(dir.resolve("a"), new byte[10]);
        Path sub = Files.createDirectories(dir.resolve("x/y"));
        Files.write(sub.resolve("b"), new byte[(int) BLOCK + 1]);
        Files.createFile(dir.resolve("empty"));
        long dirs = directorySize(dir) + directorySize(dir.resolve("x")) + directorySize(sub);
        try (DiskWalk walk = new DiskWalk(dir, BLOCK)) {
            assertEquals(dirs + BLOCK + 2 * BLOCK, measure(walk, 1_000));
            assertEquals(dirs + BLOCK + 2 * BLOCK, measure(walk, 2), "the same figure a few entries at a time");
        }
    }

    @Test
    void aPassResumesWhereTheLastCallStoppedAndCountsAtMostItsBudget() throws IOException {
        for (int i = 0; i < 20_000; i++) {
            Files.createFile(dir.resolve("f" + i));
        }
        Files.write(dir.resolve("big"), new byte[1 << 20]);
        try (DiskWalk walk = new DiskWalk(dir, BLOCK)) {
            int calls = 0;
            DiskWalk.Step step;
            long lastPartial = 0;
            do {
                step = walk.advance(1_000);
                calls++;
                assertTrue(step.visited() <= 1_000);
                assertTrue(step.bytes() >= lastPartial || step.complete());
                lastPartial = step.bytes();
            } while (!step.complete());
            assertTrue(calls >= 20, "20,001 entries at 1,000 a call take at least 20 calls, took " + calls);
            assertEquals(directorySize(dir) + (1 << 20), step.bytes());
        }
    }

    @Test
    void symbolicLinksAreNotFollowed() throws IOException {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.write(outside.resolve("big"), new byte[1 << 20]);
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.createSymbolicLink(work.resolve("root"), Path.of("/"));
        Files.createSymbolicLink(work.resolve("big"), outside.resolve("big"));
        Files.createSymbolicLink(work.resolve("dir"), outside);
        try (DiskWalk walk = new DiskWalk(work, BLOCK)) {
            DiskWalk.Step step = walk.advance(100);
            assertTrue(step.complete(), "three links and the root: one call");
            assertEquals(4, step.visited());
            assertTrue(step.bytes() < 1 << 20, "links count as themselves: " + step.bytes());
        }
    }

    @Test
    void aRootThatIsALinkOrGoneMeasuresNothing() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("/"));
        try (DiskWalk walk = new DiskWalk(link, BLOCK)) {
            assertEquals(new DiskWalk.Step(0, true, 1), walk.advance(100));
        }
        try (DiskWalk walk = new DiskWalk(dir.resolve("missing"), BLOCK)) {
            assertEquals(new DiskWalk.Step(0, true, 1), walk.advance(100));
        }
    }

    @Test
    void closeEndsThePassAndTheNextStartsAfresh() throws IOException {
        for (int i = 0; i < 50; i++) {
            Files.write(dir.resolve("f" + i), new byte[1]);
        }
        try (DiskWalk walk = new DiskWalk(dir, BLOCK)) {
            assertFalse(walk.advance(10).complete());
            walk.close();
            assertEquals(directorySize(dir) + 50 * BLOCK, measure(walk, 100));
        }
    }
}
