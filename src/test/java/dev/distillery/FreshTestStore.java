package dev.distillery;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Empties the test profile's model store and job folder before the test server starts, so a second
 * local run starts as a clean clone does: without it, jobs left unfinished by an earlier run are
 * re-queued and resumed, and models it stored take version numbers. Applies to every @QuarkusTest.
 */
@QuarkusTestResource(FreshTestStore.class)
public final class FreshTestStore implements QuarkusTestResourceLifecycleManager {

    static final Path MODELS = Path.of("target/test-data/models");
    static final Path JOBS = Path.of("target/test-data/jobs");

    @Override
    public Map<String, String> start() {
        delete(MODELS);
        delete(JOBS);
        return Map.of();
    }

    @Override
    public void stop() {}

    private static void delete(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot empty " + folder + " before the tests", e);
        }
    }
}
