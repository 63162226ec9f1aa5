package dev.distillery.api;

import dev.distillery.distill.Recipes;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobSubscription;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicReference;

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
        follow(jobId, (ServerCallStreamObserver<JobEvent>) observer);
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

    /** Streams a job's events until it ends; a client that goes away stops the stream, not the job. */
    private void follow(String jobId, ServerCallStreamObserver<JobEvent> call) {
        AtomicReference<JobSubscription> subscription = new AtomicReference<>();
        Object lock = new Object();
        boolean[] done = {false};
        call.setOnCancelHandler(() -> {
            synchronized (lock) {
                done[0] = true;
            }
            JobSubscription s = subscription.get();
            if (s != null) {
                s.close();
            }
        });
        subscription.set(jobs.watch(jobId, event -> {
            synchronized (lock) {
                if (done[0]) {
                    return;
                }
                call.onNext(event);
                if (ends(event)) {
                    done[0] = true;
                    call.onCompleted();
                }
            }
        }));
        synchronized (lock) {
            if (done[0]) {
                subscription.get().close();
            }
        }
    }

    private static boolean ends(JobEvent event) {
        return event.hasFinished() || event.hasFailed() || event.hasCancelled();
    }
}
