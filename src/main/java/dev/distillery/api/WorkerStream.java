package dev.distillery.api;

import dev.distillery.error.DistilleryException;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.WorkerReport;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.WorkerLink;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * One worker's call: its claim first, then its job's events; control's orders go the other way. The
 * call ends once the job's last event is recorded, or with the status of the first message refused.
 */
final class WorkerStream implements StreamObserver<WorkerReport> {

    private final JobManager jobs;
    private final ServerCallStreamObserver<ControlOrder> orders;
    private WorkerLink link;
    /** Guarded by {@link #orders}: orders come from other threads (CancelJob, the shutdown). */
    private boolean ended;

    WorkerStream(JobManager jobs, ServerCallStreamObserver<ControlOrder> orders) {
        this.jobs = jobs;
        this.orders = orders;
    }

    @Override
    public void onNext(WorkerReport report) {
        try {
            if (link == null) {
                if (!report.hasClaim()) {
                    throw DistilleryException.invalid("a worker's first message is its claim: the job id and its token");
                }
                link = jobs.claim(report.getClaim().getJobId(), report.getClaim().getToken(), this::send);
            } else if (!report.hasEvent()) {
                throw DistilleryException.invalid("job %s is claimed already; send its events", link.jobId());
            } else if (link.report(report.getEvent())) {
                end(null);
            }
        } catch (RuntimeException e) {
            end(e);
        }
    }

    @Override
    public void onError(Throwable error) {
        synchronized (orders) {
            ended = true; // the worker is gone: nothing more can be sent
        }
        detach();
    }

    @Override
    public void onCompleted() {
        end(null);
    }

    private void send(ControlOrder order) {
        synchronized (orders) {
            if (!ended) {
                orders.onNext(order);
            }
        }
    }

    /** Ends the call: OK, or the status of {@code error}. */
    private void end(RuntimeException error) {
        synchronized (orders) {
            if (ended) {
                return;
            }
            ended = true;
            if (error == null) {
                orders.onCompleted();
            } else {
                orders.onError(GrpcErrors.toStatus(error));
            }
        }
        detach();
    }

    private void detach() {
        if (link != null) {
            link.detach();
        }
    }
}
