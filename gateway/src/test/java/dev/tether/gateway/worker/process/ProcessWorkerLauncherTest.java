package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcessWorkerLauncherTest {

    @Test
    void relativeClasspathEntriesBecomeAbsoluteBecauseWorkersRunInTheirOwnDirectory() {
        String cwd = Path.of("").toAbsolutePath().toString();
        String classpath =
                "gateway/target/gateway.jar" + File.pathSeparator + "/opt/lib/x.jar" + File.pathSeparator + "./a/../b";
        assertEquals(
                cwd + "/gateway/target/gateway.jar" + File.pathSeparator + "/opt/lib/x.jar" + File.pathSeparator + cwd
                        + "/b",
                ProcessWorkerLauncher.absoluteClasspath(classpath));
    }

    @Test
    void emptyClasspathStaysEmpty() {
        assertEquals("", ProcessWorkerLauncher.absoluteClasspath(""));
    }
}
