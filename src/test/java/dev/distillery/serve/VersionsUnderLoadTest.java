package dev.distillery.serve;

import static dev.distillery.serve.BiasedVersions.card;
import static dev.distillery.serve.BiasedVersions.onnx;
import static dev.distillery.serve.BiasedVersions.ref;
import static dev.distillery.serve.BiasedVersions.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelRef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Versions added, replaced in place and deleted by another process while client threads call
 * {@link Predictor#logits}: no call fails that asked for a version still present, and every answer is
 * what the model its card describes computes, so it came from one whole model. Clients ask for the
 * newest version and, under {@code all}, for any version present. The test waits for calls between
 * changes by counting them, never by time.
 */
class VersionsUnderLoadTest {

    private static final String NAME = "m";
    private static final int CLIENTS = 3;
    private static final int ROUNDS = 5;
    /** Calls that must end between two changes of the store. */
    private static final int CALLS_BETWEEN_CHANGES = 60;

    @TempDir
    Path root;

    /** The bias of every model content ever written, by the sha256 of its model.onnx. */
    private final Map<String, Float> biases = new ConcurrentHashMap<>();
    /** Versions present in the store; a version leaves it before its folder does. */
    private final List<Long> present = new CopyOnWriteArrayList<>();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final Semaphore calls = new Semaphore(0);
    private volatile boolean stop;

    private byte[] content(float bias) {
        byte[] onnx = onnx(bias);
        biases.put(sha256(onnx), bias);
        return onnx;
    }

    @ParameterizedTest
    @ValueSource(strings = {"all", "latest:1"})
    void versionsChangeUnderLoadAndNoAnswerIsWrong(String policy) throws Exception {
        ModelStore other = new ModelStore(root);
        OnnxRuntime runtime = new OnnxRuntime("cpu", 1);
        boolean anyVersion = policy.equals("all");
        // Batched as the server's defaults batch, so a swap also closes versions with requests queued.
        ServingOptions batched = new ServingOptions(new Batching(true, List.of(), 64, 0L, 1024), Map.of(),
                ServingOptions.unbatched().metrics());
        try (ModelSessions sessions = new ModelSessions(new ModelStore(root), runtime,
                VersionPolicies.parse(Optional.of(policy), Map.of()), batched)) {
            StoreWatcher watcher = StoreWatcher.start(sessions, Duration.ZERO);
            Predictor predictor = new Predictor(sessions, 8, 1 << 24);
            float bias = 0;
            for (int v = 1; v <= 2; v++) {
                present.add(other.add(NAME, content(bias += 10), card()).getVersion());
            }
            watcher.poll();

            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread client = new Thread(() -> call(predictor, anyVersion), "client-" + i);
                client.start();
                clients.add(client);
            }
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    awaitCalls();
                    long added = other.add(NAME, content(bias += 10), card()).getVersion();
                    watcher.poll();
                    present.add(added);
                    awaitCalls();

                    // The newest version replaced in place, with a poll between model.onnx and model.json.
                    byte[] replacement = content(bias += 10);
                    BiasedVersions.replace(other, NAME, added, replacement, sha256(replacement), () -> {
                        watcher.poll();
                        awaitCalls();
                    });
                    watcher.poll();
                    awaitCalls();

                    Long oldest = present.get(0);
                    present.remove(oldest);
                    other.delete(ref(NAME, oldest));
                    watcher.poll();
                }
                awaitCalls();
            } finally {
                stop = true;
                for (Thread client : clients) {
                    client.join();
                }
            }
            assertEquals(List.of(), List.copyOf(failures));
            assertEquals(bias, ModelLifecycleTest.bias(sessions.get(ref(NAME, 0))), 1e-4f,
                    "the newest version serves its last content");
        }
    }

    /** Lets the clients make calls on the store as it is now. */
    private void awaitCalls() {
        try {
            assertTrue(calls.tryAcquire(CALLS_BETWEEN_CHANGES, 1, TimeUnit.MINUTES),
                    "clients stopped calling; failures so far: " + failures);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void call(Predictor predictor, boolean anyVersion) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!stop) {
            List<Long> versions = List.copyOf(present);
            long version = anyVersion && random.nextBoolean() ? versions.get(random.nextInt(versions.size())) : 0;
            ModelRef ref = ref(NAME, version);
            try {
                check(ref, predictor.logits(ref, List.of(BiasedVersions.tensor())));
            } catch (DistilleryException e) {
                if (version == 0 || present.contains(version)) {
                    failures.add((version == 0 ? "the newest version" : "version " + version + ", still present,")
                            + " refused: " + e.getMessage());
                }
            } catch (RuntimeException e) {
                failures.add("version " + version + ": " + e);
            }
            calls.release();
        }
    }

    private void check(ModelRef ref, Predictor.Scores scores) {
        LoadedModel model = scores.model();
        Float bias = biases.get(model.info().getSha256());
        if (bias == null) {
            failures.add("an answer from a model never written: card sha256 " + model.info().getSha256());
            return;
        }
        float[] expected = BiasedVersions.logits(bias);
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(scores.logits()[i] - expected[i]) > 1e-4f) {
                failures.add(String.format("version %d (card of bias %s) answered %s, its model computes %s",
                        model.info().getVersion(), bias, Arrays.toString(scores.logits()), Arrays.toString(expected)));
                return;
            }
        }
        if (ref.getVersion() != 0 && model.info().getVersion() != ref.getVersion()) {
            failures.add("asked for version " + ref.getVersion() + ", answered by " + model.info().getVersion());
        }
    }
}
