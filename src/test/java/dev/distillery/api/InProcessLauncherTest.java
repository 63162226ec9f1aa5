package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.jobs.InProcessLauncher;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobRunner;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process launcher as a client sees it: a job manager whose workers are threads of this JVM, each the
 * real Worker claiming its job over gRPC from this server's Workers service, and the Training adapter on the
 * same in-process server.
 */
class InProcessLauncherTest {

    @TempDir
    Path root;

    private static final Recipe RECIPE = Recipe.newBuilder().setOutputModel("m").setEpochs(2).build();

    private Server server;
    private ManagedChannel channel;
    private JobManager jobs;
    /** The threads the jobs' runners ran on, in order. */
    private final List<Thread> ranOn = new ArrayList<>();

    /** A started job manager on the in-process launcher, serving Training and Workers on an in-process server. */
    private TrainingGrpc.TrainingBlockingStub start(JobRunner runner, Duration stopGrace) throws Exception {
        String name = InProcessServerBuilder.generateName();
        WorkersGrpcService workers = new WorkersGrpcService();
        TrainingGrpcService training = new TrainingGrpcService();
        server = InProcessServerBuilder.forName(name).addService(workers).addService(training).build().start();
        JobRunner recording = (recipe, context) -> {
            synchronized (ranOn) {
                ranOn.add(Thread.currentThread());
            }
            return runner.run(recipe, context);
        };
        jobs = new JobManager(root, new InProcessLauncher(() -> recording, root, Duration.ofSeconds(30),
                () -> InProcessChannelBuilder.forName(name).build()), new JobManager.Settings(1, stopGrace), f -> {});
        workers.jobs = jobs;
        training.jobs = jobs;
        jobs.start();
        channel = InProcessChannelBuilder.forName(name).build();
        return TrainingGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (channel == null) {
            return;
        }
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        jobs.close();
    }

    private static List<JobEvent> watch(TrainingGrpc.TrainingBlockingStub training, String id) {
        List<JobEvent> seen = new ArrayList<>();
        training.watchJob(WatchJobRequest.newBuilder().setJobId(id).build()).forEachRemaining(seen::add);
        return seen;
    }

    private static Job get(TrainingGrpc.TrainingBlockingStub training, String id) {
        return training.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void aJobRunsOnAThreadOfThisJvmAndReportsAsAWorkerProcessWould() throws Exception {
        TrainingGrpc.TrainingBlockingStub training = start((recipe, context) -> {
            context.stage("training", "on a thread");
            context.epoch(EpochProgress.newBuilder().setEpoch(1).setEpochs(2).build());
            context.epoch(EpochProgress.newBuilder().setEpoch(2).setEpochs(2).build());
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName("m").setVersion(1)).build();
        }, Duration.ofSeconds(30));
        String id = jobs.submit(RECIPE);

        List<JobEvent> events = watch(training, id);
        assertEquals(List.of(JobEvent.EventCase.QUEUED, JobEvent.EventCase.STAGE, JobEvent.EventCase.STAGE,
                JobEvent.EventCase.EPOCH, JobEvent.EventCase.EPOCH, JobEvent.EventCase.FINISHED),
                events.stream().map(JobEvent::getEventCase).toList(), "" + events);
        assertEquals("training", events.get(2).getStage().getName());
        Job job = get(training, id);
        assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState());
        assertEquals("m", job.getModel().getName());
        assertEquals(2, job.getEpochsCount());
        assertEquals("distillery-worker-" + id, ranOn.get(0).getName(), "a thread of this JVM ran it");
        ranOn.get(0).join(10_000);
        assertFalse(ranOn.get(0).isAlive(), "its thread ends with the job");
    }

    @Test
    void cancelJobStopsTheRunningJobAtItsNextBatch() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        TrainingGrpc.TrainingBlockingStub training = start((recipe, context) -> {
            running.countDown();
            while (!context.cancelled()) { // as the trainer looks between batches
                Thread.sleep(5);
            }
            throw new CancellationException();
        }, Duration.ofSeconds(30));
        String id = jobs.submit(RECIPE);
        assertTrue(running.await(30, TimeUnit.SECONDS));
        assertEquals(JobState.JOB_STATE_RUNNING, get(training, id).getState());

        training.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
        List<JobEvent> events = watch(training, id);
        assertTrue(events.get(events.size() - 1).hasCancelled(), "" + events);
        assertEquals(JobState.JOB_STATE_CANCELLED, get(training, id).getState());
        ranOn.get(0).join(10_000);
        assertFalse(ranOn.get(0).isAlive(), "the worker's thread ended");
    }

    @Test
    void aJobThatIgnoresTheCancelIsEndedAfterTheGracePeriodAndTheNextOneRuns() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        TrainingGrpc.TrainingBlockingStub training = start((recipe, context) -> {
            if (recipe.getOutputModel().equals("next")) {
                return Finished.newBuilder().setModel(ModelRef.newBuilder().setName("next").setVersion(1)).build();
            }
            running.countDown();
            try {
                new CountDownLatch(1).await(); // never looks at context.cancelled()
            } catch (InterruptedException e) {
                interrupted.complete(true);
                throw e;
            }
            throw new IllegalStateException("unreachable");
        }, Duration.ofMillis(200));
        String deaf = jobs.submit(RECIPE);
        String next = jobs.submit(RECIPE.toBuilder().setOutputModel("next").build());
        assertTrue(running.await(30, TimeUnit.SECONDS));

        training.cancelJob(CancelJobRequest.newBuilder().setJobId(deaf).build());
        assertTrue(interrupted.get(30, TimeUnit.SECONDS), "its thread is interrupted");
        List<JobEvent> events = watch(training, deaf);
        assertTrue(events.get(events.size() - 1).hasCancelled(), "" + events);
        List<JobEvent> after = watch(training, next);
        assertTrue(after.get(after.size() - 1).hasFinished(), "the queue goes on: " + after);
    }

    @Test
    void moreThanOneRunningJobIsRefusedNamingTheSettingAndTheWayOut() {
        assertDoesNotThrow(() -> InProcessLauncher.requireOneAtATime(1));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> InProcessLauncher.requireOneAtATime(2));
        assertTrue(error.getMessage().startsWith("distillery.jobs.max-running (DISTILLERY_MAX_RUNNING_JOBS) is 2"),
                error.getMessage());
        assertTrue(error.getMessage().contains("distillery.jobs.launcher=process"), error.getMessage());
    }
}
