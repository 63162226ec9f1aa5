package dev.distillery.serve;

import ai.onnxruntime.OrtException;
import dev.distillery.error.DistilleryException;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Open ONNX Runtime sessions, one per model version, opened on first use. "Newest version" is
 * resolved from memory; {@link #publish} loads and warms a new version before requests for the
 * newest version move to it, so no request waits for a load. {@link #forget} closes the sessions of
 * deleted versions and drops the remembered newest version, which the store then resolves afresh.
 *
 * <p>A load can race a delete: it may open a version whose folder is renamed away a moment later.
 * So a session is kept, and a newest version remembered, only after checking under this object's
 * lock that its file is still there; {@link #forget} takes the same lock after the store has removed
 * the files, so whichever comes second sees the other's work.
 *
 * <p>A model may be unloaded explicitly ({@link #unload}): its sessions close and it is refused until
 * {@link #load} loads it again, as with Triton's explicit model control.
 */
public final class ModelSessions implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ModelSessions.class);

    private final ModelStore store;
    private final OnnxRuntime runtime;
    private final ServingOptions serving;
    private final Map<String, LoadedModel> loaded = new ConcurrentHashMap<>();
    private final Map<String, Long> newest = new ConcurrentHashMap<>();
    private final Set<String> unloaded = ConcurrentHashMap.newKeySet();

    /** One model version as the repository index shows it. */
    public record ModelState(String name, long version, State state, String reason) {
        public enum State { READY, UNAVAILABLE }
    }

    /** Sessions that only run models: no batching, no metrics (training, evaluation, tools). */
    public ModelSessions(ModelStore store, OnnxRuntime runtime) {
        this(store, runtime, ServingOptions.unbatched());
    }

    /** Sessions that serve requests: each loaded version gets its batching and metrics from {@code serving}. */
    public ModelSessions(ModelStore store, OnnxRuntime runtime, ServingOptions serving) {
        this.store = store;
        this.runtime = runtime;
        this.serving = serving;
    }

    /** The model a reference names; version 0 is the newest. Throws NOT_FOUND for unknown models. */
    public LoadedModel get(ModelRef ref) {
        if (unloaded.contains(ref.getName())) {
            throw DistilleryException.precondition(
                    "model '%s' is unloaded; load it (RepositoryModelLoad) before sending requests", ref.getName());
        }
        long version = ref.getVersion() != 0 ? ref.getVersion() : newest.getOrDefault(ref.getName(), 0L);
        LoadedModel cached = loaded.get(key(ref.getName(), version));
        if (cached != null) {
            return cached;
        }
        // Not loaded yet, or the newest version not known yet: the store resolves it and checks it exists.
        ModelInfo info = store.get(ref.toBuilder().setVersion(version).build());
        return open(info, ref.getVersion() == 0);
    }

    /** Loads a freshly stored version, warms it with one run, then makes it the newest. */
    public LoadedModel publish(ModelInfo info) {
        LoadedModel model = load(info);
        model.logits(model.newInputBuffer(1), 1);
        return open(info, true);
    }

    /** Loads and warms the newest version of a model and serves it again if it was unloaded; NOT_FOUND if absent. */
    public LoadedModel load(String name) {
        ModelInfo info = store.get(ModelRef.newBuilder().setName(name).build());
        unloaded.remove(name);
        return publish(info);
    }

    /** Closes every open session of a model and refuses its requests until {@link #load}; NOT_FOUND if absent. */
    public void unload(String name) {
        store.get(ModelRef.newBuilder().setName(name).build());
        synchronized (this) {
            unloaded.add(name);
            newest.remove(name);
            loaded.keySet().removeIf(key -> {
                if (!key.startsWith(name + "/")) {
                    return false;
                }
                close(loaded.get(key));
                return true;
            });
        }
    }

    /** True when a request for {@code ref} would be served: the version exists and the model is not unloaded. */
    public boolean ready(ModelRef ref) {
        if (unloaded.contains(ref.getName())) {
            return false;
        }
        try {
            store.get(ref);
            return true;
        } catch (DistilleryException e) {
            return false;
        }
    }

    /**
     * The newest version of every model in the store, ordered by name: READY when it is loaded or will
     * load on first request, UNAVAILABLE with the reason when it was unloaded.
     */
    public List<ModelState> index() {
        List<ModelState> states = new ArrayList<>();
        for (ModelInfo info : store.list()) {
            boolean off = unloaded.contains(info.getName());
            states.add(new ModelState(info.getName(), info.getVersion(),
                    off ? ModelState.State.UNAVAILABLE : ModelState.State.READY, off ? "unloaded" : ""));
        }
        return states;
    }

    /** Closes the sessions of deleted versions of a model and forgets which of its versions is the newest. */
    public void forget(String name, List<Long> versions) {
        synchronized (this) {
            newest.remove(name);
            for (long version : versions) {
                close(loaded.remove(key(name, version)));
            }
        }
    }

    /** Loads {@code info} and keeps it, and remembers it as the newest when asked, if it still exists. */
    private LoadedModel open(ModelInfo info, boolean isNewest) {
        LoadedModel model = load(info);
        synchronized (this) {
            if (!Files.isRegularFile(store.modelFile(info.getName(), info.getVersion()))) {
                close(loaded.remove(key(info.getName(), info.getVersion())));
                throw DistilleryException.notFound("model %s/%d was deleted while it was being loaded",
                        info.getName(), info.getVersion());
            }
            if (isNewest) {
                newest.merge(info.getName(), info.getVersion(), Math::max);
            }
        }
        return model;
    }

    private LoadedModel load(ModelInfo info) {
        return loaded.computeIfAbsent(key(info.getName(), info.getVersion()), k -> {
            try {
                LOG.infof("loading model %s version %d on %s", info.getName(), info.getVersion(), runtime.provider());
                return new LoadedModel(runtime, runtime.open(store.modelFile(info.getName(), info.getVersion())), info,
                        serving);
            } catch (OrtException e) {
                throw new DistilleryException(DistilleryException.Kind.FAILED_PRECONDITION,
                        "ONNX Runtime cannot load model " + k + " from the store: " + e.getMessage(), e);
            }
        });
    }

    private static String key(String name, long version) {
        return name + "/" + version;
    }

    private static void close(LoadedModel model) {
        if (model == null) {
            return;
        }
        try {
            model.close();
        } catch (OrtException e) {
            LOG.warnf("closing %s: %s", model.ref(), e.getMessage());
        }
    }

    @Override
    public void close() {
        loaded.values().forEach(ModelSessions::close);
        loaded.clear();
    }
}
