package dev.distillery.api;

import static dev.distillery.security.Role.ADMIN;
import static dev.distillery.security.Role.PREDICT;
import static dev.distillery.security.Role.TRAIN;

import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.security.Role;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.MethodDescriptor;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The role every RPC needs: the one place that says who may call what (README, "Access control and TLS").
 * A method missing from the table is refused to every token, so a new RPC is closed until someone decides
 * here who may call it. Entries name the generated method descriptors, so a renamed RPC does not compile.
 */
final class AccessTable {

    /** Services any caller may use: health checks and server reflection, as probes and tools need them. */
    private static final Set<String> OPEN_SERVICES = Set.of("grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");

    /** Services that check their callers themselves: the worker channel, by each job's own token. */
    private static final String OWN_CHECK_PREFIX = "distillery.internal.";

    private static final Map<String, Role> REQUIRED = new HashMap<>();

    static {
        require(PREDICT, PredictionGrpc.getPredictMethod(), PredictionGrpc.getPredictStreamMethod());
        require(PREDICT, GRPCInferenceServiceGrpc.getServerLiveMethod(), GRPCInferenceServiceGrpc.getServerReadyMethod(),
                GRPCInferenceServiceGrpc.getModelReadyMethod(), GRPCInferenceServiceGrpc.getServerMetadataMethod(),
                GRPCInferenceServiceGrpc.getModelMetadataMethod(), GRPCInferenceServiceGrpc.getModelInferMethod(),
                GRPCInferenceServiceGrpc.getRepositoryIndexMethod());
        require(ADMIN, GRPCInferenceServiceGrpc.getRepositoryModelLoadMethod(),
                GRPCInferenceServiceGrpc.getRepositoryModelUnloadMethod());

        require(TRAIN, TrainingGrpc.getTrainMethod(), TrainingGrpc.getWatchJobMethod(), TrainingGrpc.getGetJobMethod(),
                TrainingGrpc.getListJobsMethod());
        require(ADMIN, TrainingGrpc.getCancelJobMethod());
        require(TRAIN, EvaluationGrpc.getEvaluateMethod());
        require(TRAIN, ModelsGrpc.getListModelsMethod(), ModelsGrpc.getGetModelMethod(),
                ModelsGrpc.getDownloadModelMethod());
        require(ADMIN, ModelsGrpc.getUploadModelMethod(), ModelsGrpc.getDeleteModelMethod());
    }

    private AccessTable() {}

    private static void require(Role role, MethodDescriptor<?, ?>... methods) {
        for (MethodDescriptor<?, ?> method : methods) {
            if (REQUIRED.put(method.getFullMethodName(), role) != null) {
                throw new IllegalStateException(method.getFullMethodName() + " is in the access table twice");
            }
        }
    }

    /** Whether access control leaves {@code fullMethodName} alone: an open service, or one with its own check. */
    static boolean exempt(String fullMethodName) {
        String service = MethodDescriptor.extractFullServiceName(fullMethodName);
        return service != null && (OPEN_SERVICES.contains(service) || service.startsWith(OWN_CHECK_PREFIX));
    }

    /** The role {@code fullMethodName} needs; empty when it is not in the table, which refuses it to everyone. */
    static Optional<Role> required(String fullMethodName) {
        return Optional.ofNullable(REQUIRED.get(fullMethodName));
    }
}
