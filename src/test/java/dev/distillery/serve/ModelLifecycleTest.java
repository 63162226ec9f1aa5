package dev.distillery.serve;

import static dev.distillery.serve.BiasedVersions.card;
import static dev.distillery.serve.BiasedVersions.onnx;
import static dev.distillery.serve.BiasedVersions.ref;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.serve.ModelSessions.ModelState;
import dev.distillery.serve.ModelSessions.ModelState.State;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ModelSessions}: version states, version policies, load before unload, explicit load and unload, sha256. */
class ModelLifecycleTest {

    @TempDir
    Path root;

    private ModelStore store;
    private OnnxRuntime runtime;
    private ModelSessions sessions;

    @BeforeEach
    void open() {
        store = new ModelStore(root);
        runtime = new OnnxRuntime("cpu", 1);
    }

    @AfterEach
    void close() {
        if (sessions != null) {
            sessions.close();
        }
    }

    private ModelSessions sessions(String policy) {
        sessions = new ModelSessions(store, runtime, VersionPolicies.parse(Optional.of(policy), Map.of()));
        return sessions;
    }

    /** The bias the answer of a session shows: which stored model computed it. */
    static float bias(LoadedModel model) {
        float[] logits = model.logits(model.newInputBuffer(1).put(BiasedVersions.INPUT), 1);
        return logits[0] - BiasedVersions.logits(0)[0];
    }

    static DistilleryException refused(DistilleryException.Kind kind, Runnable call) {
        DistilleryException e = assertThrows(DistilleryException.class, call::run);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    private List<String> states(String name) {
        List<String> states = new ArrayList<>();
        for (ModelState state : sessions.index()) {
            if (state.name().equals(name)) {
                states.add(state.version() + " " + state.state());
            }
        }
        return states;
    }

    private ModelState state(String name, long version) {
        return sessions.index().stream().filter(s -> s.name().equals(name) && s.version() == version)
                .findFirst().orElseThrow();
    }

    @Test
    void aNewVersionIsLoadedAndWarmedBeforeTheOldOneCloses() {
        store.add("m", onnx(10), card());
        AtomicReference<ModelSessions> self = new AtomicReference<>();
        AtomicReference<LoadedModel> first = new AtomicReference<>();
        List<String> whileLoadingVersion2 = new ArrayList<>();
        VersionLoader real = VersionLoader.verified(store, runtime, ServingOptions.unbatched());
        sessions = new ModelSessions(store, card -> {
            LoadedModel loaded = real.load(card);
            if (card.getVersion() == 2) {
                // Version 2 is warm; the version served so far still serves, and still runs.
                whileLoadingVersion2.addAll(states("m"));
                whileLoadingVersion2.add("newest " + self.get().get(ref("m", 0)).info().getVersion());
                whileLoadingVersion2.add("bias " + bias(first.get()));
            }
            return loaded;
        }, VersionPolicies.DEFAULT);
        self.set(sessions);
        first.set(sessions.get(ref("m", 0)));
        assertEquals(1, first.get().info().getVersion());

        sessions.publish(store.add("m", onnx(20), card()));

        assertEquals(List.of("1 READY", "2 LOADING", "newest 1", "bias 10.0"), whileLoadingVersion2);
        assertEquals(2, sessions.get(ref("m", 0)).info().getVersion());
        assertEquals(20f, bias(sessions.get(ref("m", 0))), 1e-4f);
        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(first.get()));
        assertEquals(List.of("1 UNAVAILABLE", "2 READY"), states("m"), "after the swap the old session is closed");
    }

    @Test
    void theVersionPolicyDecidesWhichVersionsAreServed() {
        for (int v = 1; v <= 4; v++) {
            store.add("m", onnx(10 * v), card());
        }
        sessions("latest:2");
        assertEquals(List.of("1 UNAVAILABLE", "2 UNAVAILABLE", "3 UNAVAILABLE", "4 UNAVAILABLE"), states("m"));
        assertTrue(state("m", 4).reason().startsWith("not loaded yet"), state("m", 4).reason());
        assertFalse(sessions.ready(ref("m", 1)), "outside the policy");
        assertTrue(sessions.ready(ref("m", 0)), "a served version not loaded yet loads, as a request would load it");

        assertEquals(40f, bias(sessions.get(ref("m", 0))), 1e-4f);
        assertEquals(30f, bias(sessions.get(ref("m", 3))), 1e-4f);
        assertEquals(List.of("1 UNAVAILABLE", "2 UNAVAILABLE", "3 READY", "4 READY"), states("m"));
        assertTrue(sessions.ready(ref("m", 3)) && sessions.ready(ref("m", 0)) && !sessions.ready(ref("m", 2)));
        String reason = refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 2)))
                .getMessage();
        assertTrue(reason.contains("version 2 is UNAVAILABLE") && reason.contains("latest:2")
                && reason.contains("serves versions [3, 4]") && reason.contains("distillery.serving.models.\"m\".versions"),
                reason);
        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.get(ref("m", 9)));
        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.get(ref("ghost", 0)));
        refused(DistilleryException.Kind.INVALID_ARGUMENT, () -> sessions.get(ref("m", -1)));
        sessions.close();

        sessions = new ModelSessions(store, runtime,
                VersionPolicies.parse(Optional.of("latest:1"), Map.of("m", "specific:1,3")));
        assertEquals(30f, bias(sessions.get(ref("m", 0))), 1e-4f, "the newest of the pinned versions");
        assertEquals(10f, bias(sessions.get(ref("m", 1))), 1e-4f);
        refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 4)));
        assertEquals(List.of("1 READY", "2 UNAVAILABLE", "3 READY", "4 UNAVAILABLE"), states("m"));
        sessions.close();

        sessions("all");
        for (int v = 1; v <= 4; v++) {
            assertEquals(10f * v, bias(sessions.get(ref("m", v))), 1e-4f);
        }
        assertEquals(List.of("1 READY", "2 READY", "3 READY", "4 READY"), states("m"));
    }

    @Test
    void aVersionWhoseModelOnnxDoesNotMatchItsSha256IsNeverServed() throws Exception {
        sessions("latest:1");
        store.add("m", onnx(10), card());
        assertEquals(10f, bias(sessions.get(ref("m", 0))), 1e-4f);

        // Another process writes version 2 with a card whose sha256 is another file's.
        ModelInfo stored = store.add("m", onnx(20), card());
        BiasedVersions.replace(store, "m", 2, onnx(666), stored.getSha256(), () -> {});
        sessions.refresh();

        String reason = refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 2)))
                .getMessage();
        assertTrue(reason.contains("version 2 is UNAVAILABLE") && reason.contains("model.onnx does not match the sha256")
                && reason.contains(BiasedVersions.sha256(onnx(666))), reason);
        assertEquals(10f, bias(sessions.get(ref("m", 0))), 1e-4f, "the version served before serves on");
        assertEquals(State.READY, state("m", 1).state());
        assertTrue(state("m", 1).reason().startsWith("kept serving"), state("m", 1).reason());

        // A fresh server never loads it, and has nothing else to serve under latest:1.
        sessions.close();
        sessions("latest:1");
        String none = refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 0)))
                .getMessage();
        assertTrue(none.contains("has no version ready") && none.contains("does not match the sha256"), none);
        assertEquals(List.of("1 UNAVAILABLE", "2 UNAVAILABLE"), states("m"));

        // A card that records no sha256 cannot be checked, so it is not served either.
        BiasedVersions.replace(store, "m", 2, onnx(20), "", () -> {});
        sessions.refresh();
        assertTrue(state("m", 2).reason().contains("records no sha256"), state("m", 2).reason());

        // Once the card matches the file, the version is served.
        BiasedVersions.replace(store, "m", 2, onnx(20), BiasedVersions.sha256(onnx(20)), () -> {});
        sessions.refresh();
        assertEquals(20f, bias(sessions.get(ref("m", 0))), 1e-4f);
    }

    @Test
    void publishingAVersionThatCannotBeServedSaysWhy() throws Exception {
        sessions("latest:1");
        ModelInfo stored = store.add("m", onnx(10), card());
        Files.write(store.modelFile("m", 1), onnx(11));
        String reason = refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.publish(stored))
                .getMessage();
        assertTrue(reason.startsWith("model m/1 is stored but cannot be served") && reason.contains("sha256"), reason);
    }

    @Test
    void anUnloadedModelIsRefusedUntilItIsLoadedAgain() {
        sessions("latest:1");
        store.add("m", onnx(10), card());
        LoadedModel served = sessions.get(ref("m", 0));

        sessions.unload("m");
        assertFalse(sessions.ready(ref("m", 0)));
        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(served));
        String reason = refused(DistilleryException.Kind.FAILED_PRECONDITION, () -> sessions.get(ref("m", 1)))
                .getMessage();
        assertTrue(reason.contains("'m' is unloaded"), reason);
        assertEquals(List.of("1 UNAVAILABLE"), states("m"));
        assertTrue(state("m", 1).reason().startsWith("unloaded"), state("m", 1).reason());

        store.add("m", onnx(20), card());
        sessions.refresh();
        assertFalse(sessions.ready(ref("m", 0)), "checking the store does not load an unloaded model");
        assertEquals(List.of("1 UNAVAILABLE", "2 UNAVAILABLE"), states("m"));

        LoadedModel loaded = sessions.load("m");
        assertEquals(2, loaded.info().getVersion());
        assertSame(loaded, sessions.get(ref("m", 0)));
        assertTrue(sessions.ready(ref("m", 2)));
        assertEquals(List.of("1 UNAVAILABLE", "2 READY"), states("m"));

        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.load("ghost"));
        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.unload("ghost"));
    }

    @Test
    void aVersionDeletedByThisProcessClosesAtOnce() {
        sessions("all");
        store.add("m", onnx(10), card());
        store.add("m", onnx(20), card());
        LoadedModel second = sessions.get(ref("m", 2));
        ModelRef doomed = ref("m", 2);

        List<Long> deleted = store.delete(doomed);
        sessions.forget("m", deleted);

        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(second));
        refused(DistilleryException.Kind.NOT_FOUND, () -> sessions.get(doomed));
        assertEquals(10f, bias(sessions.get(ref("m", 0))), 1e-4f);
        assertEquals(List.of("1 READY"), states("m"));
    }

    @Test
    void closedSessionsAnswerNoMore() {
        sessions("latest:1");
        store.add("m", onnx(10), card());
        LoadedModel served = sessions.get(ref("m", 0));
        sessions.close();
        refused(DistilleryException.Kind.NOT_FOUND, () -> bias(served));
        sessions.refresh();
        assertFalse(sessions.ready(ref("m", 0)), "a closed ModelSessions loads nothing more");
        assertEquals(List.of("1 UNAVAILABLE"), states("m"));
    }
}
