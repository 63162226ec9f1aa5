package dev.distillery.api;

import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.WorkerReport;
import dev.distillery.internal.v1.WorkersGrpc;
import dev.distillery.jobs.JobManager;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/**
 * Control's end of the channel its workers report on. Authenticated by each job's own token (checked
 * by the job manager), not by the user tokens of the public services.
 */
@GrpcService
@Blocking
public class WorkersGrpcService extends WorkersGrpc.WorkersImplBase {

    @Inject
    JobManager jobs;

    @Override
    public StreamObserver<WorkerReport> report(StreamObserver<ControlOrder> orders) {
        return new WorkerStream(jobs, (ServerCallStreamObserver<ControlOrder>) orders);
    }
}
