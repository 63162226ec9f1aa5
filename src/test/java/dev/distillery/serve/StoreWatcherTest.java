package dev.distillery.serve;

import static dev.distillery.serve.BiasedVersions.card;
import static dev.distillery.serve.BiasedVersions.onnx;
import static dev.distillery.serve.BiasedVersions.ref;
import static dev.distillery.serve.BiasedVersions.sha256;
import static dev.distillery.serve.ModelLifecycleTest.bias;
import static dev.distillery.serve.ModelLifecycleTest.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.serve.ModelSessions.ModelState;
import dev.distillery.store.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StoreWatcher}: what another process does to the store shows at the next poll. "Another process"
 * is a second {@link ModelStore} on the same folder, which shares nothing in memory with the server's.
 */
class StoreWatcherTest {

    @TempDir
    Path root;

    private ModelStore other;
    private OnnxRuntime runtime;
    private ModelSessions sessions;

    @BeforeEach
    void open() {
        other = new ModelStore(root);
        runtime = new OnnxRuntime("cpu", 1);
        sessions = new ModelSessions(new ModelStore(root), runtime);
    }

    @AfterEach
    void close() {
        sessions.close();
    }

    private ModelState state(long version) {
        return sessions.index().stream().filter(s -> s.version() == version).findFirst().orElseThrow();
    }

    private List<String> states() {
        return sessions.index().stream().map(s -> s.name() + "/" + s.version() + " " + s.state()).toList();
    }

    @Test
    void versionsAddedReplacedAndDeletedByAnotherProcessShowAtTheNextPoll() throws Exception {
        StoreWatcher watcher = StoreWatcher.start(sessions, Duration.ZERO);
        other.add("m", onnx(10), card());
        watcher.poll();
        assertTrue(sessions.ready(ref("m", 0)), "loaded by the poll, before any request");
        LoadedModel first = sessions.get(ref("m", 0));
        assertEquals(10f, bias(first), 1e-4f);

        // Added.
        other.add("m", onnx(20), card());
        assertEquals(1, sessions.get(ref("m", 0)).info().getVersion(), "not noticed before the poll");
        watcher.poll();
        assertEquals(20f, bias(sessions.get(ref("m", 0))), 1e-4f);
        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(first));
        assertEquals(List.of("m/1 UNAVAILABLE", "m/2 READY"), states());

        // Replaced in place: model.onnx first, model.json last. In between the files do not match, and the
        // session loaded before serves on.
        BiasedVersions.replace(other, "m", 2, onnx(30), sha256(onnx(30)), () -> {
            watcher.poll();
            assertEquals(20f, bias(sessions.get(ref("m", 2))), 1e-4f);
            assertEquals(ModelState.State.READY, state(2).state());
            assertTrue(state(2).reason().startsWith("its files changed but cannot be loaded")
                    && state(2).reason().contains("does not match the sha256"), state(2).reason());
        });
        watcher.poll();
        assertEquals(30f, bias(sessions.get(ref("m", 0))), 1e-4f);
        assertEquals(2, sessions.get(ref("m", 0)).info().getVersion());
        assertEquals("", state(2).reason());

        // Deleted: the version before is the newest again.
        LoadedModel second = sessions.get(ref("m", 2));
        other.delete(ref("m", 2));
        watcher.poll();
        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(second));
        assertEquals(10f, bias(sessions.get(ref("m", 0))), 1e-4f);
        assertEquals(List.of("m/1 READY"), states());

        other.delete(ref("m", 0));
        watcher.poll();
        assertFalse(sessions.ready(ref("m", 0)));
        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.get(ref("m", 0)));
        assertEquals(List.of(), states());
    }

    @Test
    void aDamagedModelFileIsNotLoadedAgain() throws Exception {
        StoreWatcher watcher = StoreWatcher.start(sessions, Duration.ZERO);
        other.add("m", onnx(10), card());
        watcher.poll();

        // Damaged in place: bytes appended to the file the version was loaded from.
        Files.write(other.modelFile("m", 1), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        watcher.poll();
        assertEquals(10f, bias(sessions.get(ref("m", 0))), 1e-4f, "the session checked at load serves on");
        assertTrue(state(1).reason().contains("does not match the sha256"), state(1).reason());

        sessions.close();
        sessions = new ModelSessions(new ModelStore(root), runtime);
        StoreWatcher.start(sessions, Duration.ZERO).poll();
        assertFalse(sessions.ready(ref("m", 0)), "after a restart it is not served");
        assertEquals(ModelState.State.UNAVAILABLE, state(1).state());
        refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 1)));
    }

    @Test
    void theWatcherPollsOnItsOwnDaemonThreadUntilClosed() throws Exception {
        other.add("m", onnx(10), card());
        CountDownLatch loaded = new CountDownLatch(1);
        AtomicReference<Thread> poller = new AtomicReference<>();
        VersionLoader real = VersionLoader.verified(other, runtime, ServingOptions.unbatched());
        sessions.close();
        sessions = new ModelSessions(other, card -> {
            poller.set(Thread.currentThread());
            LoadedModel model = real.load(card);
            loaded.countDown();
            return model;
        }, VersionPolicies.DEFAULT);

        StoreWatcher watcher = StoreWatcher.start(sessions, Duration.ofHours(1));
        try {
            assertTrue(loaded.await(1, TimeUnit.MINUTES), "the first poll runs at start");
        } finally {
            watcher.close();
        }
        assertTrue(sessions.ready(ref("m", 0)), "closing waited for the poll in progress, which served the version");
        assertTrue(poller.get().isDaemon());
        assertEquals("model-store-watcher", poller.get().getName());
        poller.get().join(TimeUnit.MINUTES.toMillis(1));
        assertFalse(poller.get().isAlive(), "closing stops the thread");
    }

    @Test
    void aNegativeIntervalIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoreWatcher.start(sessions, Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().contains("distillery.serving.poll-interval must be >= 0"), e.getMessage());
    }
}
