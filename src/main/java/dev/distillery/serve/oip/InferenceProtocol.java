package dev.distillery.serve.oip;

import dev.distillery.error.DistilleryException;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferResponse;
import dev.distillery.inference.ModelMetadataResponse;
import dev.distillery.inference.ModelRepositoryParameter;
import dev.distillery.inference.RepositoryIndexResponse;
import dev.distillery.inference.ServerMetadataResponse;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.Predictor;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelRef;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Open Inference Protocol (KServe v2) over the serving core: every model of the store, its versions as the
 * protocol's version strings ("" = the newest), inference through {@link Predictor#logits}, and the
 * model-repository extension through {@link ModelSessions}. Tensor names are {@link ModelSignature}'s.
 */
public final class InferenceProtocol {

    public static final String SERVER_NAME = "distillery";
    /** The protocol extensions implemented, as ServerMetadata reports them. */
    public static final List<String> EXTENSIONS = List.of("classification", "model_repository");
    /** Triton's clients send this with every unload; no model here has dependents, so it changes nothing. */
    private static final String UNLOAD_DEPENDENTS = "unload_dependents";

    private final ModelStore store;
    private final ModelSessions sessions;
    private final Predictor predictor;
    private final String serverVersion;

    public InferenceProtocol(ModelStore store, ModelSessions sessions, Predictor predictor, String serverVersion) {
        this.store = store;
        this.sessions = sessions;
        this.predictor = predictor;
        this.serverVersion = serverVersion;
    }

    /** Ready when the store can be read and written: the same condition as the HTTP readiness check. */
    public boolean ready() {
        return store.healthy();
    }

    public ServerMetadataResponse serverMetadata() {
        return ServerMetadataResponse.newBuilder()
                .setName(SERVER_NAME)
                .setVersion(serverVersion)
                .addAllExtensions(EXTENSIONS)
                .build();
    }

    /**
     * Whether requests for the model would be served. NOT_FOUND for a model or version the store does not
     * have (as Triton answers); false for one that exists but is unloaded.
     */
    public boolean modelReady(String name, String version) {
        ModelRef ref = ref(name, version);
        if (sessions.ready(ref)) {
            return true;
        }
        store.get(ref);
        return false;
    }

    /** Read from the model's card, so it answers for an unloaded model too. */
    public ModelMetadataResponse modelMetadata(String name, String version) {
        return ModelSignature.metadata(store.get(ref(name, version)));
    }

    public ModelInferResponse infer(ModelInferRequest request) {
        ModelRef ref = ref(request.getModelName(), request.getModelVersion());
        List<InferOutputs.Requested> outputs = InferOutputs.requested(request);
        Predictor.Scores scores = predictor.logits(ref, InferInputs.of(request));
        ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
                .setModelName(scores.model().info().getName())
                .setModelVersion(Long.toString(scores.model().info().getVersion()))
                .setId(request.getId());
        InferOutputs.write(scores, outputs, response);
        return response.build();
    }

    /** The newest version of every model with its state; only the READY ones when {@code readyOnly}. */
    public RepositoryIndexResponse index(String repository, boolean readyOnly) {
        checkRepository(repository);
        RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
        for (ModelSessions.ModelState state : sessions.index()) {
            if (!readyOnly || state.state() == ModelSessions.ModelState.State.READY) {
                index.addModelsBuilder()
                        .setName(state.name())
                        .setVersion(Long.toString(state.version()))
                        .setState(state.state().name())
                        .setReason(state.reason());
            }
        }
        return index.build();
    }

    /** Loads and warms the model's newest version; the model's files always come from the store. */
    public void load(String repository, String name, Map<String, ModelRepositoryParameter> parameters) {
        checkRepository(repository);
        checkParameters("RepositoryModelLoad", parameters.keySet(), Set.of());
        sessions.load(name);
    }

    public void unload(String repository, String name, Map<String, ModelRepositoryParameter> parameters) {
        checkRepository(repository);
        checkParameters("RepositoryModelUnload", parameters.keySet(), Set.of(UNLOAD_DEPENDENTS));
        sessions.unload(name);
    }

    /** A protocol version string as a store reference: "" is the newest (0), else an integer >= 1. */
    static ModelRef ref(String name, String version) {
        long number = 0;
        if (!version.isEmpty()) {
            try {
                number = Long.parseLong(version);
            } catch (NumberFormatException e) {
                number = -1;
            }
            if (number < 1) {
                throw DistilleryException.invalid("model version '%s' is not a version number: send an integer >= 1, "
                        + "or an empty version for the newest", version);
            }
        }
        return ModelRef.newBuilder().setName(name).setVersion(number).build();
    }

    private static void checkRepository(String repository) {
        if (!repository.isEmpty()) {
            throw DistilleryException.invalid("repository '%s' is unknown: this server has one model repository; leave "
                    + "repository_name empty", repository);
        }
    }

    private static void checkParameters(String call, Set<String> given, Set<String> accepted) {
        for (String parameter : given) {
            if (!accepted.contains(parameter)) {
                throw DistilleryException.invalid("%s: parameter '%s' is not supported (%s); a model's files come "
                        + "from the store (UploadModel adds versions)", call, parameter,
                        accepted.isEmpty() ? "it takes none" : "it takes only " + String.join(", ", accepted));
            }
        }
    }
}
