package dev.distillery.api;

import dev.distillery.distill.Recipes;
import dev.distillery.jobs.JobManager;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

@GrpcService
@Blocking
public class TrainingGrpcService extends TrainingGrpc.TrainingImplBase {

    @Inject
    JobManager jobs;

    @Inject
    Recipes recipes;

    /** Validates the recipe before queueing it, so a bad recipe fails the call rather than a job. */
    @Override
    public void train(TrainRequest request, StreamObserver<JobEvent> observer) {
        String jobId;
        try {
            jobId = jobs.submit(recipes.resolve(request.getRecipe()));
        } catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
            return;
        }
        JobEventStream.follow(jobs, jobId, (ServerCallStreamObserver<JobEvent>) observer);
    }

    /** The job's events so far, then live ones until it ends; a job restored after a restart replays its record. */
    @Override
    public void watchJob(WatchJobRequest request, StreamObserver<JobEvent> observer) {
        JobEventStream.follow(jobs, request.getJobId(), (ServerCallStreamObserver<JobEvent>) observer);
    }

    @Override
    public void getJob(GetJobRequest request, StreamObserver<Job> observer) {
        GrpcErrors.respond(observer, () -> jobs.get(request.getJobId()));
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> observer) {
        GrpcErrors.respond(observer, () -> ListJobsResponse.newBuilder().addAllJobs(jobs.list()).build());
    }

    @Override
    public void cancelJob(CancelJobRequest request, StreamObserver<Job> observer) {
        GrpcErrors.respond(observer, () -> jobs.cancel(request.getJobId()));
    }
}
