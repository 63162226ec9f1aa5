package dev.distillery.jobs;

import dev.distillery.error.DistilleryException;
import dev.distillery.internal.v1.Assignment;
import dev.distillery.internal.v1.Claim;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.Stop;
import dev.distillery.internal.v1.WorkerReport;
import dev.distillery.internal.v1.WorkersGrpc;
import dev.distillery.v1.Cancelled;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Failed;
import dev.distillery.v1.Finished;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrialResult;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.jboss.logging.Logger;

/**
 * The worker role: claims one job from control over the {@code Workers} channel, runs it with a
 * {@link JobRunner}, reports every event back and says how it ended ({@link WorkerExit}). Its
 * checkpoints go where control's job manager keeps them, {@code <jobs root>/<id>/}, so a resumed
 * job's next worker finds them.
 *
 * <p>A stop from control ends the run at its next batch: a cancel is reported as cancelled, a
 * shutdown ends without a last event (the job resumes later). A broken channel means control is gone
 * (killed, restarted: a restarted control runs the job again with a new worker and token), so the
 * run stops at its next batch as well; a worker still running {@code grace} after that is halted, so
 * that no orphan trains on.
 */
public final class Worker {

    private static final Logger LOG = Logger.getLogger(Worker.class);
    private static final EnumSet<Status.Code> REFUSALS = EnumSet.of(Status.Code.UNAUTHENTICATED,
            Status.Code.PERMISSION_DENIED, Status.Code.FAILED_PRECONDITION, Status.Code.INVALID_ARGUMENT);

    private final JobRunner runner;
    private final Path jobsRoot;
    private final Duration grace;
    private final IntConsumer halt;

    /**
     * @param grace how long a worker that lost control may take to stop, and how long it waits for
     *     control to acknowledge its last event
     * @param halt ends the process with an exit code, without waiting for anything
     */
    public Worker(JobRunner runner, Path jobsRoot, Duration grace, IntConsumer halt) {
        this.runner = runner;
        this.jobsRoot = jobsRoot.toAbsolutePath().normalize();
        this.grace = grace;
        this.halt = halt;
    }

    public WorkerExit run(Channel control, String jobId, String token) throws InterruptedException {
        Session session = new Session(jobId);
        session.reports = WorkersGrpc.newStub(control).report(session);
        session.send(WorkerReport.newBuilder().setClaim(Claim.newBuilder().setJobId(jobId).setToken(token)).build());
        Assignment assignment;
        try {
            assignment = session.assignment.get();
        } catch (ExecutionException e) {
            Status status = Status.fromThrowable(e.getCause());
            LOG.errorf("control did not give job %s to this worker: %s %s", jobId, status.getCode(), status.getDescription());
            return REFUSALS.contains(status.getCode()) ? WorkerExit.REFUSED : WorkerExit.CONTROL_LOST;
        }
        LOG.infof("worker of job %s: running %s (resumes: %d)", jobId, assignment.getRecipe().getOutputModel(),
                assignment.getResumes());
        try {
            return runAssigned(session, assignment);
        } finally {
            session.done = true; // the channel closes next: that is no loss
        }
    }

    private WorkerExit runAssigned(Session session, Assignment assignment) throws InterruptedException {
        String jobId = session.jobId;
        try {
            Finished finished = runner.run(assignment.getRecipe(), session);
            return session.end(JobEvent.newBuilder().setFinished(finished), WorkerExit.SUCCEEDED);
        } catch (Exception | Error e) {
            Stop.Reason stop = session.stop;
            if (stop == Stop.Reason.REASON_CANCELLED) {
                return session.end(JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance()), WorkerExit.CANCELLED);
            }
            if (stop == Stop.Reason.REASON_SHUTDOWN) {
                session.close();
                return WorkerExit.STOPPED;
            }
            if (session.lost) {
                return WorkerExit.CONTROL_LOST;
            }
            LOG.errorf(e, "job %s failed", jobId);
            String message = e instanceof DistilleryException || e instanceof CancellationException ? e.getMessage()
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            return session.end(JobEvent.newBuilder().setFailed(Failed.newBuilder().setMessage(message)), WorkerExit.FAILED);
        }
    }

    /** The call to control: orders in, reports out; and the job's context, which reports through it. */
    private final class Session implements StreamObserver<ControlOrder>, JobContext {
        private final String jobId;
        private final CompletableFuture<Assignment> assignment = new CompletableFuture<>();
        private final CountDownLatch closed = new CountDownLatch(1);
        private StreamObserver<WorkerReport> reports;
        private volatile Stop.Reason stop;
        private volatile boolean lost;
        private volatile boolean acknowledged;
        private volatile boolean done;

        Session(String jobId) {
            this.jobId = jobId;
        }

        @Override
        public void onNext(ControlOrder order) {
            if (order.hasAssignment()) {
                assignment.complete(order.getAssignment());
            } else if (order.hasStop() && stop == null) {
                LOG.infof("worker of job %s: control asks it to stop (%s)", jobId, order.getStop().getReason());
                stop = order.getStop().getReason();
            }
        }

        @Override
        public void onError(Throwable error) {
            lost = true;
            closed.countDown();
            if (assignment.completeExceptionally(error) || done) {
                return;
            }
            LOG.errorf("worker of job %s lost its channel to control (%s); it stops at the next batch and exits "
                    + "within %s", jobId, Status.fromThrowable(error), grace);
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(grace.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
                LOG.errorf("worker of job %s did not stop within %s of losing control; halting", jobId, grace);
                halt.accept(WorkerExit.CONTROL_LOST.code());
            }, "distillery-worker-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        @Override
        public void onCompleted() {
            acknowledged = true;
            closed.countDown();
            assignment.completeExceptionally(Status.FAILED_PRECONDITION
                    .withDescription("control ended the call without an assignment").asRuntimeException());
        }

        synchronized void send(WorkerReport report) {
            if (lost) {
                return; // the run stops at its next batch; there is no one to tell
            }
            reports.onNext(report);
        }

        /** Sends the job's last event and waits for control to acknowledge it by ending the call. */
        WorkerExit end(JobEvent.Builder event, WorkerExit exit) throws InterruptedException {
            send(WorkerReport.newBuilder().setEvent(event).build());
            close();
            if (!closed.await(grace.toMillis(), TimeUnit.MILLISECONDS) || !acknowledged) {
                LOG.errorf("control did not acknowledge the end of job %s (%s)", jobId, exit);
                return WorkerExit.CONTROL_LOST;
            }
            return exit;
        }

        synchronized void close() {
            if (!lost) {
                reports.onCompleted();
            }
        }

        @Override
        public String jobId() {
            return jobId;
        }

        @Override
        public Path workDirectory() {
            return jobsRoot.resolve(jobId);
        }

        @Override
        public void stage(String name, String message) {
            report(JobEvent.newBuilder().setStage(Stage.newBuilder().setName(name).setMessage(message)));
        }

        @Override
        public void epoch(EpochProgress progress) {
            report(JobEvent.newBuilder().setEpoch(progress));
        }

        @Override
        public void trial(TrialResult result) {
            report(JobEvent.newBuilder().setTrial(result));
        }

        private void report(JobEvent.Builder event) {
            send(WorkerReport.newBuilder().setEvent(event).build());
        }

        @Override
        public boolean cancelled() {
            return stop != null || lost;
        }
    }
}
