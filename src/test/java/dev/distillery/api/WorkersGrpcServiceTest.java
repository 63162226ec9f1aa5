package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.internal.v1.Claim;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.Stop;
import dev.distillery.internal.v1.WorkerReport;
import dev.distillery.internal.v1.WorkersGrpc;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobRunner;
import dev.distillery.jobs.Worker;
import dev.distillery.jobs.WorkerExit;
import dev.distillery.jobs.WorkerHandle;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Workers channel over an in-process gRPC server, beside the Training service on the same job
 * manager: the token checks, and the real {@link Worker} reporting a job that clients follow as usual.
 */
class WorkersGrpcServiceTest {

    @TempDir
    Path root;

    /** What the launcher was asked to start: the job, its token, and the exit the test or its worker gives. */
    private record Launch(Job job, String token, CompletableFuture<Integer> exit) {}

    private final BlockingQueue<Launch> launches = new LinkedBlockingQueue<>();
    /** When set, each launch runs the real Worker with this runner on a thread, over the in-process channel. */
    private volatile JobRunner runner;
    private final List<Integer> halts = new CopyOnWriteArrayList<>();
    private JobManager jobs;
    private Server server;
    private ManagedChannel channel;
    private TrainingGrpc.TrainingBlockingStub training;

    @BeforeEach
    void start() throws Exception {
        jobs = new JobManager(root, this::launch, new JobManager.Settings(1, Duration.ofSeconds(30)), finished -> {}).start();
        WorkersGrpcService workers = new WorkersGrpcService();
        workers.jobs = jobs;
        TrainingGrpcService trainingService = new TrainingGrpcService();
        trainingService.jobs = jobs;
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(workers).addService(trainingService).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        training = TrainingGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        jobs.close();
    }

    private WorkerHandle launch(Job job, String token) {
        Launch launch = new Launch(job, token, new CompletableFuture<>());
        launches.add(launch);
        JobRunner worker = runner;
        if (worker != null) {
            Thread thread = new Thread(() -> {
                try {
                    launch.exit().complete(new Worker(worker, root, Duration.ofSeconds(30), halts::add)
                            .run(channel, job.getId(), token).code());
                } catch (InterruptedException e) {
                    launch.exit().completeExceptionally(e);
                }
            });
            thread.setDaemon(true);
            thread.start();
        }
        return new FutureWorkerHandle(launch.exit());
    }

    private Launch submitted(String outputModel) throws InterruptedException {
        jobs.submit(Recipe.newBuilder().setOutputModel(outputModel).setEpochs(2).build());
        Launch launch = launches.poll(30, TimeUnit.SECONDS);
        assertNotNull(launch, "no worker was launched");
        return launch;
    }

    /** A raw Report call: what control sends back, and how the call ends. */
    private final class Call implements StreamObserver<ControlOrder> {
        final BlockingQueue<ControlOrder> orders = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final StreamObserver<WorkerReport> reports = WorkersGrpc.newStub(channel).report(this);

        Call claim(String jobId, String token) {
            reports.onNext(WorkerReport.newBuilder().setClaim(Claim.newBuilder().setJobId(jobId).setToken(token)).build());
            return this;
        }

        Status.Code ended() throws Exception {
            return end.get(30, TimeUnit.SECONDS).getCode();
        }

        @Override
        public void onNext(ControlOrder order) {
            orders.add(order);
        }

        @Override
        public void onError(Throwable error) {
            end.complete(Status.fromThrowable(error));
        }

        @Override
        public void onCompleted() {
            end.complete(Status.OK);
        }
    }

    @Test
    void aClaimNeedsTheTokenMadeForThatRunOfThatJob() throws Exception {
        Launch launch = submitted("m");
        String id = launch.job().getId();
        assertEquals(Status.Code.UNAUTHENTICATED, new Call().claim(id, "").ended());
        assertEquals(Status.Code.PERMISSION_DENIED, new Call().claim(id, launch.token() + "x").ended());
        assertEquals(Status.Code.PERMISSION_DENIED, new Call().claim(id, launch.token().toUpperCase()).ended(),
                "a token differing only in case is another token");
        assertEquals(Status.Code.PERMISSION_DENIED, new Call().claim("no-such-job", launch.token()).ended());
        Call eventFirst = new Call();
        eventFirst.reports.onNext(WorkerReport.newBuilder().setEvent(JobEvent.newBuilder()
                .setStage(Stage.newBuilder().setName("data"))).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, eventFirst.ended());

        Call claimed = new Call().claim(id, launch.token());
        ControlOrder assignment = claimed.orders.poll(30, TimeUnit.SECONDS);
        assertNotNull(assignment);
        assertEquals("m", assignment.getAssignment().getRecipe().getOutputModel());
        assertEquals(Status.Code.FAILED_PRECONDITION, new Call().claim(id, launch.token()).ended(), "claimed once");

        claimed.reports.onNext(WorkerReport.newBuilder().setEvent(JobEvent.newBuilder()
                .setQueued(dev.distillery.v1.Queued.getDefaultInstance())).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, claimed.ended(), "a worker does not report queued events");
        launch.exit().complete(WorkerExit.FAILED.code());
    }

    @Test
    void aWorkersEventsReachItsWatchersAsJobEventsAndItEndsWithItsCode() throws Exception {
        runner = (recipe, context) -> {
            context.stage("data", "fashion-mnist: 10 images");
            context.epoch(EpochProgress.newBuilder().setEpoch(1).setEpochs(2).setValidationAccuracy(0.5f).build());
            context.epoch(EpochProgress.newBuilder().setEpoch(2).setEpochs(2).setValidationAccuracy(0.75f).build());
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName(recipe.getOutputModel()).setVersion(3))
                    .setBestEpoch(2).build();
        };
        Launch launch = submitted("student");
        List<JobEvent> events = new ArrayList<>();
        training.watchJob(WatchJobRequest.newBuilder().setJobId(launch.job().getId()).build()).forEachRemaining(events::add);

        assertEquals(List.of(JobEvent.EventCase.QUEUED, JobEvent.EventCase.STAGE, JobEvent.EventCase.STAGE,
                JobEvent.EventCase.EPOCH, JobEvent.EventCase.EPOCH, JobEvent.EventCase.FINISHED),
                events.stream().map(JobEvent::getEventCase).toList());
        assertEquals("fashion-mnist: 10 images", events.get(2).getStage().getMessage());
        assertEquals(0.75f, events.get(4).getEpoch().getValidationAccuracy());
        assertEquals(ModelRef.newBuilder().setName("student").setVersion(3).build(), events.get(5).getFinished().getModel());
        assertTrue(events.stream().allMatch(e -> e.getJobId().equals(launch.job().getId()) && e.hasTime()));
        assertEquals(WorkerExit.SUCCEEDED.code(), launch.exit().get(30, TimeUnit.SECONDS));
        Job job = training.getJob(GetJobRequest.newBuilder().setJobId(launch.job().getId()).build());
        assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState());
        assertEquals(2, job.getEpochsCount());
        assertEquals(List.of(), halts);
    }

    @Test
    void cancelJobStopsTheWorkerThroughItsChannel() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        runner = (recipe, context) -> untilCancelled(context, running);
        Launch launch = submitted("m");
        assertTrue(running.await(30, TimeUnit.SECONDS));
        training.cancelJob(CancelJobRequest.newBuilder().setJobId(launch.job().getId()).build());
        assertEquals(WorkerExit.CANCELLED.code(), launch.exit().get(30, TimeUnit.SECONDS));
        assertEquals(JobState.JOB_STATE_CANCELLED, awaitEnd(launch.job().getId()).getState());
    }

    @Test
    void aStopOrderedBeforeTheClaimArrivesWithTheAssignment() throws Exception {
        Launch launch = submitted("m");
        training.cancelJob(CancelJobRequest.newBuilder().setJobId(launch.job().getId()).build());
        Call late = new Call().claim(launch.job().getId(), launch.token());
        assertTrue(late.orders.poll(30, TimeUnit.SECONDS).hasAssignment());
        assertEquals(Stop.Reason.REASON_CANCELLED, late.orders.poll(30, TimeUnit.SECONDS).getStop().getReason());
        late.reports.onCompleted();
        assertEquals(Status.Code.OK, late.ended());
        launch.exit().complete(WorkerExit.CANCELLED.code());
        assertEquals(JobState.JOB_STATE_CANCELLED, awaitEnd(launch.job().getId()).getState());
    }

    @Test
    void aWorkerWhoseChannelBreaksStopsAtItsNextBatch() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        runner = (recipe, context) -> untilCancelled(context, running);
        Launch launch = submitted("m");
        assertTrue(running.await(30, TimeUnit.SECONDS));
        server.shutdownNow(); // control is gone
        assertEquals(WorkerExit.CONTROL_LOST.code(), launch.exit().get(30, TimeUnit.SECONDS));
        assertEquals(List.of(), halts, "it stopped by itself, well within the grace period");
        Job job = awaitEnd(launch.job().getId());
        assertEquals(JobState.JOB_STATE_FAILED, job.getState());
        assertTrue(job.getError().contains("exit code 5 (lost its channel to control)"), job.getError());
    }

    private static Finished untilCancelled(dev.distillery.jobs.JobContext context, CountDownLatch running)
            throws InterruptedException {
        running.countDown();
        while (!context.cancelled()) {
            Thread.sleep(5); // one "batch"
        }
        throw new CancellationException();
    }

    /** Polls the job until it has ended: its end is recorded by another thread. */
    private Job awaitEnd(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Job job = jobs.get(id);
            if (job.hasEnded()) {
                return job;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("job " + id + " did not end: " + jobs.get(id));
    }
}
