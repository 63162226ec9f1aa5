package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.jobs.InMemoryLauncher;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobRunner;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Training adapter over an in-process gRPC server, on a job manager with a scripted runner. */
class TrainingGrpcServiceTest {

    @TempDir
    Path root;

    private final List<AutoCloseable> open = new ArrayList<>();
    private ManagedChannel channel;

    private static Recipe recipe(String outputModel) {
        return Recipe.newBuilder().setOutputModel(outputModel).setEpochs(2).build();
    }

    private static EpochProgress epoch(int epoch) {
        return EpochProgress.newBuilder().setEpoch(epoch).setEpochs(2).build();
    }

    /** Epoch 1, then waits for {@code release}, then epoch 2 and a model named after the recipe. */
    private static JobRunner gatedRunner(CountDownLatch release) {
        return (recipe, context) -> {
            context.epoch(epoch(1));
            assertTrue(release.await(10, TimeUnit.SECONDS));
            context.epoch(epoch(2));
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName(recipe.getOutputModel()).setVersion(1))
                    .build();
        };
    }

    private JobManager manager(JobRunner runner) {
        JobManager jobs = InMemoryLauncher.manager(root, runner);
        open.add(jobs);
        return jobs;
    }

    /** A blocking stub on an in-process server that serves {@code jobs}. */
    private TrainingGrpc.TrainingBlockingStub serve(JobManager jobs) throws Exception {
        TrainingGrpcService service = new TrainingGrpcService();
        service.jobs = jobs;
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).addService(service).build().start();
        open.add(() -> server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
        channel = InProcessChannelBuilder.forName(name).build();
        return TrainingGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private static WatchJobRequest watch(String id) {
        return WatchJobRequest.newBuilder().setJobId(id).build();
    }

    private static List<JobEvent> rest(Iterator<JobEvent> events) {
        List<JobEvent> seen = new ArrayList<>();
        events.forEachRemaining(seen::add);
        return seen;
    }

    @Test
    void watchJobReplaysTheEventsSoFarThenFollowsTheJobToItsEnd() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        JobManager jobs = manager(gatedRunner(release));
        TrainingGrpc.TrainingBlockingStub training = serve(jobs);
        String id = jobs.submit(recipe("m"));

        Iterator<JobEvent> events = training.watchJob(watch(id));
        assertTrue(events.next().hasQueued());
        assertEquals("started", events.next().getStage().getName());
        assertEquals(1, events.next().getEpoch().getEpoch());
        release.countDown();
        List<JobEvent> live = rest(events);
        assertEquals(2, live.size(), "" + live);
        assertEquals(2, live.get(0).getEpoch().getEpoch());
        assertEquals("m", live.get(1).getFinished().getModel().getName());
        assertTrue(live.stream().allMatch(e -> e.getJobId().equals(id)));

        List<JobEvent> again = rest(training.watchJob(watch(id)));
        assertEquals(5, again.size(), "an ended job replays its whole history, then the stream ends");
        assertTrue(again.get(4).hasFinished());
    }

    @Test
    void watchJobOfAnUnknownJobIsNotFound() throws Exception {
        TrainingGrpc.TrainingBlockingStub training = serve(manager((r, c) -> Finished.getDefaultInstance()));
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> training.watchJob(watch("no-such-job")).hasNext());
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertTrue(unknown.getStatus().getDescription().contains("no-such-job"));
        StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
                () -> training.watchJob(watch("")).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    }

    @Test
    void getListAndCancelJobs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        JobManager jobs = manager(gatedRunner(release));
        TrainingGrpc.TrainingBlockingStub training = serve(jobs);
        String first = jobs.submit(recipe("first"));
        String second = jobs.submit(recipe("second"));
        String third = jobs.submit(recipe("third"));

        List<Job> listed = training.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList();
        assertEquals(List.of(third, second, first), listed.stream().map(Job::getId).toList(), "newest first");
        assertEquals(List.of(3L, 2L, 1L), listed.stream().map(Job::getSequence).toList());

        Job cancelled = training.cancelJob(CancelJobRequest.newBuilder().setJobId(second).build());
        assertEquals(JobState.JOB_STATE_CANCELLED, cancelled.getState());
        StatusRuntimeException again = assertThrows(StatusRuntimeException.class,
                () -> training.cancelJob(CancelJobRequest.newBuilder().setJobId(second).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, again.getStatus().getCode());

        release.countDown();
        List<JobEvent> thirdEvents = rest(training.watchJob(watch(third)));
        assertTrue(thirdEvents.get(thirdEvents.size() - 1).hasFinished());
        Job done = training.getJob(GetJobRequest.newBuilder().setJobId(third).build());
        assertEquals(JobState.JOB_STATE_SUCCEEDED, done.getState());
        assertEquals("third", done.getModel().getName());
        assertEquals(JobState.JOB_STATE_SUCCEEDED,
                training.getJob(GetJobRequest.newBuilder().setJobId(first).build()).getState());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
                () -> training.getJob(GetJobRequest.newBuilder().setJobId("nope").build())).getStatus().getCode());
    }

    /** After a crash the next server replays the job's record, says it resumed, then follows the run again. */
    @Test
    void watchJobAfterARestartReplaysTheRecordThenTheResumedRun() throws Exception {
        CountDownLatch epochOne = new CountDownLatch(1);
        JobManager crashed = manager((recipe, context) -> {
            context.epoch(epoch(1));
            epochOne.countDown();
            while (!context.cancelled()) { // until the test ends: this server "crashed" and records nothing more
                Thread.sleep(5);
            }
            throw new CancellationException();
        });
        String id = crashed.submit(recipe("m"));
        assertTrue(epochOne.await(10, TimeUnit.SECONDS));

        CountDownLatch release = new CountDownLatch(1);
        JobManager restarted = manager((recipe, context) -> {
            assertTrue(release.await(10, TimeUnit.SECONDS));
            context.stage("resume", "resumed from the checkpoint after epoch 1");
            context.epoch(epoch(2));
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName("m").setVersion(1)).build();
        });
        TrainingGrpc.TrainingBlockingStub training = serve(restarted);

        Iterator<JobEvent> events = training.watchJob(watch(id));
        JobEvent restored = events.next();
        assertEquals("restored", restored.getStage().getName());
        assertTrue(restored.getStage().getMessage().contains("JOB_STATE_RUNNING, 1 epochs"), restored.toString());
        assertEquals(1, events.next().getEpoch().getEpoch());
        JobEvent resumed = events.next();
        assertEquals("resumed", resumed.getStage().getName());
        assertTrue(resumed.getStage().getMessage().startsWith("resumed after a restart"));
        release.countDown();
        List<JobEvent> live = rest(events);
        assertEquals(List.of("resume", "2", "finished"), live.stream().map(e -> e.hasStage() ? e.getStage().getName()
                : e.hasEpoch() ? Integer.toString(e.getEpoch().getEpoch()) : e.getEventCase().name().toLowerCase()).toList());
        Job job = training.getJob(GetJobRequest.newBuilder().setJobId(id).build());
        assertEquals(1, job.getResumes());
        assertEquals(2, job.getEpochsCount());
    }
}
