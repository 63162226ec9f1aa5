package dev.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessLauncherTest {

    private static final List<String> APPLICATION = List.of("java", "-jar", "app.jar");

    @Test
    void aWorkerMayOnlyYieldTheCpu() {
        for (int niceness : List.of(-1, 20)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ProcessLauncher(APPLICATION, () -> "localhost:8080", niceness));
            assertTrue(e.getMessage().startsWith("distillery.jobs.worker-niceness (DISTILLERY_WORKER_NICENESS) must be 0 "
                    + "to 19"), e.getMessage());
        }
        assertDoesNotThrow(() -> new ProcessLauncher(APPLICATION, () -> "localhost:8080", 0));
        assertDoesNotThrow(() -> new ProcessLauncher(APPLICATION, () -> "localhost:8080", 19));
    }
}
