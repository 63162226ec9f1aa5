package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.distillery.config.Roles;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The role check over an in-process server: a service of a role this process lacks is UNIMPLEMENTED. */
class RoleGuardTest {

    /** Answers ListJobs with nothing: enough to tell a call that got through. */
    private static final class Training extends TrainingGrpc.TrainingImplBase {
        @Override
        public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> observer) {
            observer.onNext(ListJobsResponse.getDefaultInstance());
            observer.onCompleted();
        }
    }

    private static ListJobsResponse listJobs(String... roles) throws Exception {
        RoleGuard guard = new RoleGuard();
        guard.roles = Roles.parse(List.of(roles));
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(new Training(), guard)).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        try {
            return TrainingGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listJobs(ListJobsRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aServiceOfAnotherRoleIsUnimplementedAndSaysWhichRoleServesIt() {
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> listJobs("serve"));
        assertEquals(Status.Code.UNIMPLEMENTED, error.getStatus().getCode());
        assertEquals("distillery.v1.Training is served by a replica with the role 'control'; this one runs the roles "
                + "'serve' (distillery.roles)", error.getStatus().getDescription());
        assertEquals(Status.Code.UNIMPLEMENTED,
                assertThrows(StatusRuntimeException.class, () -> listJobs("worker")).getStatus().getCode(),
                "a worker serves no public service");
    }

    @Test
    void aServiceOfAHeldRoleIsServed() throws Exception {
        assertEquals(ListJobsResponse.getDefaultInstance(), listJobs("control"));
        assertEquals(ListJobsResponse.getDefaultInstance(), listJobs("control", "serve"));
    }

    @Test
    void everyPublicAndInternalServiceHasItsRole() {
        assertEquals(Roles.Role.CONTROL, RoleGuard.SERVICES.get("distillery.internal.v1.Workers"));
        assertEquals(Roles.Role.SERVE, RoleGuard.SERVICES.get("inference.GRPCInferenceService"));
        assertEquals(Roles.Role.SERVE, RoleGuard.SERVICES.get("distillery.v1.Prediction"));
        assertEquals(List.of("distillery.v1.Evaluation", "distillery.v1.Models", "distillery.v1.Training"),
                RoleGuard.SERVICES.entrySet().stream().filter(e -> e.getValue() == Roles.Role.CONTROL)
                        .map(java.util.Map.Entry::getKey).filter(s -> s.startsWith("distillery.v1.")).sorted().toList());
    }
}
