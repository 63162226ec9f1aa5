package dev.distillery.serve;

import ai.onnxruntime.OrtException;
import dev.distillery.error.DistilleryException;
import dev.distillery.serve.ModelSessions.ModelState.State;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The model versions being served, each with a warm ONNX Runtime session, kept in line with the store
 * and with each model's {@link VersionPolicy}, as Triton's model lifecycle does it.
 *
 * <p>Every version the store holds is in one {@link ModelState.State}: LOADING while its session is opened,
 * checked and warmed; READY while it is served; UNLOADING while its session closes, which waits for the
 * runs in flight on it; UNAVAILABLE, with the reason, when the policy does not select it, its model was
 * unloaded, or it cannot be loaded (say its model.onnx does not match the sha256 in its model.json).
 *
 * <p>Loading comes before unloading. Bringing a model in line with the store first loads every version
 * the policy selects that is not loaded, or whose files changed since ({@link VersionFiles}), and serves
 * each as soon as it is warm (a replaced version's new session takes over from its old one); only when
 * all the selected versions are served do the versions the policy no longer selects close. While a
 * selected version fails to load, the versions served before keep serving, as Triton keeps a model whose
 * reload failed; a version whose files changed but cannot be loaded keeps its session from before,
 * which was checked when it was loaded. A version whose files are gone closes at once. This runs when
 * this process stores a version ({@link #publish}) or deletes one ({@link #forget}), on {@link #load} and
 * {@link #unload}, on a request for a version not loaded yet, and at every poll of the {@link StoreWatcher}.
 *
 * <p>Requests read an immutable snapshot of the ready versions, so they never wait for a load unless they
 * name a version not loaded yet. Changes to one model happen one at a time, under that model's lock.
 */
public final class ModelSessions implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ModelSessions.class);
    private static final String UNLOADED = "unloaded: load the model (RepositoryModelLoad) to serve it again";
    private static final String NOT_LOADED_YET =
            "not loaded yet: the next check of the store or the first request for it loads it";

    private final ModelStore store;
    private final VersionLoader loader;
    private final VersionPolicies policies;
    private final ConcurrentMap<String, Versions> models = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** One model version as the repository index shows it; {@code reason} says why it is not plainly READY. */
    public record ModelState(String name, long version, State state, String reason) {
        public enum State { LOADING, READY, UNLOADING, UNAVAILABLE }
    }

    /** Serves every model's newest version ({@link VersionPolicy#DEFAULT}). */
    public ModelSessions(ModelStore store, OnnxRuntime runtime) {
        this(store, runtime, VersionPolicies.DEFAULT, ServingOptions.unbatched());
    }

    /** Serves every model's newest version; each loaded version gets its batching and metrics from {@code serving}. */
    public ModelSessions(ModelStore store, OnnxRuntime runtime, ServingOptions serving) {
        this(store, runtime, VersionPolicies.DEFAULT, serving);
    }

    /** Serves the versions {@code policies} select, without batching or metrics. */
    public ModelSessions(ModelStore store, OnnxRuntime runtime, VersionPolicies policies) {
        this(store, runtime, policies, ServingOptions.unbatched());
    }

    public ModelSessions(ModelStore store, OnnxRuntime runtime, VersionPolicies policies, ServingOptions serving) {
        this(store, VersionLoader.verified(store, runtime, serving), policies);
    }

    ModelSessions(ModelStore store, VersionLoader loader, VersionPolicies policies) {
        this.store = store;
        this.loader = loader;
        this.policies = policies;
    }

    /**
     * The session serving a reference; version 0 is the newest READY version. A version the policy serves
     * but not loaded yet is loaded first.
     *
     * @throws DistilleryException NOT_FOUND for a model or version not in the store; FAILED_PRECONDITION,
     *     with the reason, for an unloaded model, a version its policy does not serve, or one that cannot be
     *     loaded
     */
    public LoadedModel get(ModelRef ref) {
        Versions known = models.get(ref.getName());
        LoadedModel ready = known == null ? null : known.served.find(ref.getVersion());
        if (ready != null) {
            return ready;
        }
        store.get(ref);
        String name = ref.getName();
        Versions model = versions(name);
        if (model.unloaded) {
            throw unloaded(name);
        }
        change(model, () -> refresh(name, model));
        ready = model.served.find(ref.getVersion());
        if (ready != null) {
            return ready;
        }
        throw refusal(ref, model);
    }

    /**
     * Serves a version this process has just stored, as the policy says: loaded and warmed before the
     * versions it displaces close.
     *
     * @throws DistilleryException FAILED_PRECONDITION when the policy selects it but it cannot be loaded
     */
    public void publish(ModelInfo info) {
        String name = info.getName();
        Versions model = versions(name);
        change(model, () -> refresh(name, model));
        Entry entry = model.entries.get(info.getVersion());
        if (entry != null && entry.failed()) {
            throw DistilleryException.precondition("model %s/%d is stored but cannot be served: %s", name,
                    info.getVersion(), entry.reason());
        }
    }

    /**
     * Serves a model again after {@link #unload}, or now rather than at the next check of the store, and
     * returns its newest ready version.
     *
     * @throws DistilleryException NOT_FOUND for a model not in the store; FAILED_PRECONDITION when none of
     *     the versions its policy selects can be loaded
     */
    public LoadedModel load(String name) {
        store.get(ModelRef.newBuilder().setName(name).build());
        Versions model = versions(name);
        change(model, () -> {
            model.unloaded = false;
            refresh(name, model);
        });
        LoadedModel newest = model.served.find(0);
        if (newest == null) {
            throw DistilleryException.precondition("model '%s' has no version that can be served: %s", name,
                    describe(model));
        }
        return newest;
    }

    /**
     * Closes every session of a model, each once the runs in flight on it end, and refuses its requests
     * until {@link #load}; NOT_FOUND for a model not in the store.
     */
    public void unload(String name) {
        store.get(ModelRef.newBuilder().setName(name).build());
        Versions model = versions(name);
        change(model, () -> {
            model.unloaded = true;
            refresh(name, model);
        });
    }

    /**
     * True when a request for {@code ref} would be served: the version it names is READY, or its policy
     * serves it and it loads now, as the request would load it (a version added since the last check of
     * the store, say). False for an unloaded model, a version outside the policy, or one that fails to load.
     */
    public boolean ready(ModelRef ref) {
        Versions model = models.get(ref.getName());
        if (model != null && model.served.find(ref.getVersion()) != null) {
            return true;
        }
        try {
            get(ref);
            return true;
        } catch (DistilleryException e) {
            return false;
        }
    }

    /**
     * Every version of every model in the store, and every version still served, by name then version,
     * each with its state; a model not checked against the store yet shows its versions as UNAVAILABLE.
     */
    public List<ModelState> index() {
        Set<String> names = new TreeSet<>(store.modelNames());
        names.addAll(models.keySet());
        List<ModelState> states = new ArrayList<>();
        for (String name : names) {
            Versions model = models.get(name);
            if (model != null && !model.entries.isEmpty()) {
                model.entries.forEach((version, entry) ->
                        states.add(new ModelState(name, version, entry.state(), entry.reason())));
            } else {
                for (long version : store.versions(name)) {
                    states.add(new ModelState(name, version, State.UNAVAILABLE, NOT_LOADED_YET));
                }
            }
        }
        return states;
    }

    /** After this process deleted versions of a model from the store: closes their sessions now. */
    public void forget(String name, List<Long> versions) {
        LOG.infof("model %s: versions %s deleted from the store", name, versions);
        Versions model = versions(name);
        change(model, () -> refresh(name, model));
    }

    /**
     * Brings every model in the store, and every model served, in line with the store: versions added,
     * replaced or deleted by another process are loaded, reloaded or closed. One model that fails is
     * logged and the others go on. This is one poll of the {@link StoreWatcher}.
     */
    public void refresh() {
        Set<String> names = new TreeSet<>(store.modelNames());
        names.addAll(models.keySet());
        for (String name : names) {
            try {
                Versions model = versions(name);
                change(model, () -> refresh(name, model));
            } catch (RuntimeException e) {
                LOG.warnf(e, "model %s: checking it against the store failed: %s", name, e.getMessage());
            }
        }
    }

    /** Brings one model in line with the store and its policy; the caller holds the model's lock. */
    private void refresh(String name, Versions model) {
        if (closed) {
            return;
        }
        NavigableMap<Long, VersionFiles> stored = new TreeMap<>();
        for (long version : store.versions(name)) {
            VersionFiles.of(store, name, version).ifPresent(files -> stored.put(version, files));
        }
        VersionPolicy policy = policies.of(name);
        List<Long> selected = model.unloaded ? List.of() : policy.select(List.copyOf(stored.keySet()));

        // Load first, the newest first: requests for version 0 move to it as soon as it is warm.
        boolean complete = true;
        for (int i = selected.size() - 1; i >= 0; i--) {
            complete &= serve(name, model, selected.get(i), stored.get(selected.get(i)));
        }

        // Then unload what is no longer selected, unless it stands in for a selected version that failed.
        List<LoadedModel> retired = new ArrayList<>();
        for (Map.Entry<Long, Entry> versionEntry : model.entries.entrySet()) {
            long version = versionEntry.getKey();
            Entry entry = versionEntry.getValue();
            if (entry.model() == null || selected.contains(version)) {
                continue;
            }
            if (stored.containsKey(version) && !complete) {
                model.entries.put(version, entry.withReason(String.format("kept serving while a version that the "
                        + "version policy %s selects, of %s, cannot be loaded", policy, selected)));
                continue;
            }
            model.entries.put(version, Entry.unloading(entry.model()));
            retired.add(entry.model());
        }
        model.serveReady();
        for (LoadedModel session : retired) {
            close(session);
            LOG.infof("model %s version %d unloaded", name, session.info().getVersion());
        }

        // What is left without a session: gone from the store, or not selected, or failed to load.
        Set<Long> known = new TreeSet<>(model.entries.keySet());
        known.addAll(stored.keySet());
        for (long version : known) {
            Entry entry = model.entries.get(version);
            if (entry != null && entry.state() == State.READY) {
                continue;
            }
            if (!stored.containsKey(version)) {
                model.entries.remove(version);
            } else if (!selected.contains(version)) {
                model.entries.put(version, Entry.unavailable(model.unloaded ? UNLOADED : String.format(
                        "not served: the version policy %s serves versions %s of the %s stored; to serve it, set "
                                + "distillery.serving.models.\"%s\".versions (e.g. all, or specific:V1,V2)",
                        policy, selected, stored.keySet(), name)));
            }
        }
    }

    /**
     * Makes sure a selected version is served from its current files: loads and warms it unless its session
     * already came from them, then serves the new session in place of any older one of the same version.
     * False when it cannot be served from its current files.
     */
    private boolean serve(String name, Versions model, long version, VersionFiles files) {
        Entry entry = model.entries.get(version);
        if (entry != null && files.equals(entry.tried())) {
            if (entry.current() && !entry.reason().isEmpty()) {
                model.entries.put(version, entry.withReason(""));
            }
            return entry.current();
        }
        if (entry == null || entry.model() == null) {
            model.entries.put(version, Entry.loading(files));
        }
        LoadedModel fresh;
        try {
            fresh = loader.load(store.get(ModelRef.newBuilder().setName(name).setVersion(version).build()));
        } catch (RuntimeException e) {
            LOG.warnf("model %s version %d cannot be served: %s", name, version, e.getMessage());
            model.entries.put(version, entry != null && entry.model() != null
                    ? entry.reloadFailed(files, e.getMessage()) : Entry.failed(files, e.getMessage()));
            return false;
        }
        Entry replaced = model.entries.put(version, Entry.ready(fresh, files));
        model.serveReady();
        LOG.infof("model %s version %d ready", name, version);
        if (replaced != null && replaced.model() != null) {
            close(replaced.model());
        }
        return true;
    }

    private DistilleryException refusal(ModelRef ref, Versions model) {
        String name = ref.getName();
        if (ref.getVersion() == 0) {
            return DistilleryException.precondition("model '%s' has no version ready to serve: %s", name,
                    describe(model));
        }
        Entry entry = model.entries.get(ref.getVersion());
        if (entry == null) {
            return DistilleryException.notFound("model '%s' has no version %d; versions: %s", name,
                    ref.getVersion(), store.versions(name));
        }
        return DistilleryException.precondition("model '%s' version %d is %s: %s", name, ref.getVersion(),
                entry.state(), entry.reason());
    }

    private static DistilleryException unloaded(String name) {
        return DistilleryException.precondition(
                "model '%s' is unloaded; load it (RepositoryModelLoad) before sending requests", name);
    }

    private static String describe(Versions model) {
        return model.entries.isEmpty() ? "no versions in the store" : model.entries.entrySet().stream()
                .map(e -> "version " + e.getKey() + " " + e.getValue().state()
                        + (e.getValue().reason().isEmpty() ? "" : " (" + e.getValue().reason() + ")"))
                .collect(Collectors.joining("; "));
    }

    private Versions versions(String name) {
        return models.computeIfAbsent(name, k -> new Versions());
    }

    private static void change(Versions model, Runnable action) {
        model.changes.lock();
        try {
            action.run();
        } finally {
            model.changes.unlock();
        }
    }

    /** Waits for the runs in flight on a session, then frees it. */
    private static void close(LoadedModel model) {
        try {
            model.close();
        } catch (OrtException e) {
            LOG.warnf("closing %s: %s", model.ref(), e.getMessage());
        }
    }

    /** Closes every session; later checks of the store load nothing. */
    @Override
    public void close() {
        closed = true;
        for (Versions model : models.values()) {
            change(model, () -> {
                model.served = Served.NONE;
                model.entries.values().stream().map(Entry::model).filter(m -> m != null)
                        .forEach(ModelSessions::close);
                model.entries.clear();
            });
        }
    }

    /** One model's versions: their states, kept for the index, and the snapshot requests read. */
    private static final class Versions {
        /** Held while the model changes: loads, swaps and closes happen one at a time. */
        final ReentrantLock changes = new ReentrantLock();
        final ConcurrentSkipListMap<Long, Entry> entries = new ConcurrentSkipListMap<>();
        volatile Served served = Served.NONE;
        volatile boolean unloaded;

        /** Publishes the READY versions to requests, in one step. */
        void serveReady() {
            Map<Long, LoadedModel> ready = new HashMap<>();
            LoadedModel newest = null;
            for (Map.Entry<Long, Entry> entry : entries.entrySet()) {
                if (entry.getValue().state() == State.READY) {
                    ready.put(entry.getKey(), entry.getValue().model());
                    newest = entry.getValue().model();
                }
            }
            served = new Served(newest, Map.copyOf(ready));
        }
    }

    /** The READY versions as requests see them; replaced as a whole, never changed. */
    private record Served(LoadedModel newest, Map<Long, LoadedModel> byVersion) {
        static final Served NONE = new Served(null, Map.of());

        /** The session for a version, 0 meaning the newest; null when that version is not READY. */
        LoadedModel find(long version) {
            return version == 0 ? newest : byVersion.get(version);
        }
    }

    /**
     * One version's place in the lifecycle. {@code model} is its session, when it has one (READY,
     * UNLOADING); {@code tried} the files its last load read, and {@code current} whether its session came
     * from them.
     */
    private record Entry(State state, String reason, LoadedModel model, VersionFiles tried, boolean current) {

        static Entry loading(VersionFiles files) {
            return new Entry(State.LOADING, "", null, files, false);
        }

        static Entry ready(LoadedModel model, VersionFiles files) {
            return new Entry(State.READY, "", model, files, true);
        }

        static Entry failed(VersionFiles files, String reason) {
            return new Entry(State.UNAVAILABLE, reason, null, files, false);
        }

        static Entry unloading(LoadedModel model) {
            return new Entry(State.UNLOADING, "", model, null, false);
        }

        static Entry unavailable(String reason) {
            return new Entry(State.UNAVAILABLE, reason, null, null, false);
        }

        /** Its files changed and cannot be loaded: the session from before, checked when loaded, serves on. */
        Entry reloadFailed(VersionFiles files, String failure) {
            return new Entry(State.READY, "its files changed but cannot be loaded (" + failure
                    + "); the session loaded before serves on", model, files, false);
        }

        Entry withReason(String why) {
            return new Entry(state, why, model, tried, current);
        }

        /** Its last load failed and it has no session. */
        boolean failed() {
            return model == null && tried != null && state == State.UNAVAILABLE;
        }
    }
}
