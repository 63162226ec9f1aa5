package dev.distillery.api;

import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobSubscription;
import dev.distillery.v1.JobEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.function.Consumer;

/**
 * Forwards one job's events to a server stream, its history first, until the job ends or the client
 * goes away. The client leaving ends the stream, never the job. Serves Train after submission and
 * WatchJob.
 */
final class JobEventStream implements Consumer<JobEvent> {

    private final ServerCallStreamObserver<JobEvent> call;
    private JobSubscription subscription;
    private boolean done;

    private JobEventStream(ServerCallStreamObserver<JobEvent> call) {
        this.call = call;
    }

    /** Ends the call with NOT_FOUND or INVALID_ARGUMENT when there is no such job. */
    static void follow(JobManager jobs, String jobId, ServerCallStreamObserver<JobEvent> call) {
        JobEventStream stream = new JobEventStream(call);
        call.setOnCancelHandler(stream::stop);
        JobSubscription watching;
        try {
            watching = jobs.watch(jobId, stream);
        } catch (RuntimeException e) {
            call.onError(GrpcErrors.toStatus(e));
            return;
        }
        stream.attach(watching);
    }

    @Override
    public synchronized void accept(JobEvent event) {
        if (done) {
            return;
        }
        call.onNext(event);
        if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
            call.onCompleted();
            stop();
        }
    }

    private synchronized void stop() {
        done = true;
        if (subscription != null) {
            subscription.close();
        }
    }

    /** The replay inside watch() may already have ended the stream. */
    private synchronized void attach(JobSubscription watching) {
        subscription = watching;
        if (done) {
            watching.close();
        }
    }
}
