package dev.distillery.api;

import dev.distillery.config.Roles;
import dev.distillery.config.Roles.Role;
import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.internal.v1.WorkersGrpc;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.spi.Prioritized;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * Answers UNIMPLEMENTED, naming the role that serves it, for a service whose role this process does not
 * hold ({@code distillery.roles}). Services of no role (health, reflection) are always served.
 */
@GlobalInterceptor
@ApplicationScoped
public class RoleGuard implements ServerInterceptor, Prioritized {

    static final Map<String, Role> SERVICES = Map.of(
            TrainingGrpc.SERVICE_NAME, Role.CONTROL,
            ModelsGrpc.SERVICE_NAME, Role.CONTROL,
            EvaluationGrpc.SERVICE_NAME, Role.CONTROL,
            WorkersGrpc.SERVICE_NAME, Role.CONTROL,
            PredictionGrpc.SERVICE_NAME, Role.SERVE,
            GRPCInferenceServiceGrpc.SERVICE_NAME, Role.SERVE);

    @Inject
    Roles roles;

    /** Inside the access check ({@link AccessControl}): a caller without a token learns nothing of the roles. */
    @Override
    public int getPriority() {
        return 100;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String service = call.getMethodDescriptor().getServiceName();
        Role needed = SERVICES.get(service);
        if (needed == null || roles.holds(needed)) {
            return next.startCall(call, headers);
        }
        return GrpcErrors.refuse(call, Status.UNIMPLEMENTED.withDescription(String.format(
                "%s is served by a replica with the role '%s'; this one runs the roles '%s' (distillery.roles)",
                service, needed.key(), roles)));
    }
}
