package dev.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobManagerTest {

    @TempDir
    Path root;

    private static final Recipe RECIPE = Recipe.newBuilder().setOutputModel("m").setEpochs(2).build();

    private static Recipe named(String outputModel) {
        return RECIPE.toBuilder().setOutputModel(outputModel).build();
    }

    private static EpochProgress epoch(int epoch) {
        return EpochProgress.newBuilder().setEpoch(epoch).setEpochs(2).build();
    }

    /** Collects a job's events and lets a test wait for its end. */
    private static final class Events implements Consumer<JobEvent> {
        final List<JobEvent> seen = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);

        @Override
        public void accept(JobEvent event) {
            seen.add(event);
            if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
                ended.countDown();
            }
        }

        List<JobEvent.EventCase> kinds() throws InterruptedException {
            assertTrue(ended.await(10, TimeUnit.SECONDS), "job did not end");
            return seen.stream().map(JobEvent::getEventCase).toList();
        }

        JobEvent.EventCase last() throws InterruptedException {
            List<JobEvent.EventCase> kinds = kinds();
            return kinds.get(kinds.size() - 1);
        }

        List<String> stages() {
            return seen.stream().filter(JobEvent::hasStage).map(e -> e.getStage().getName()).toList();
        }
    }

    private static Events follow(JobManager jobs, String id) {
        Events events = new Events();
        jobs.watch(id, events);
        return events;
    }

    /** The record on disk, as the next start will read it. */
    private Job record(String id) throws Exception {
        Job.Builder job = Job.newBuilder();
        JsonFormat.parser().merge(Files.readString(root.resolve(id + ".json")), job);
        return job.build();
    }

    private static List<String> newestFirst(List<String> submitted) {
        List<String> reversed = new ArrayList<>(submitted);
        Collections.reverse(reversed);
        return reversed;
    }

    /** Runs until the server stops it or a user cancels it, as the trainer does between batches. */
    private static Finished untilStopped(JobContext context, CountDownLatch running) throws InterruptedException {
        running.countDown();
        while (!context.cancelled()) {
            Thread.sleep(5);
        }
        throw new CancellationException();
    }

    @Test
    void aJobStreamsItsEventsAndRecordsItsModel() throws Exception {
        JobRunner runner = (recipe, context) -> {
            for (int epoch = 1; epoch <= recipe.getEpochs(); epoch++) {
                context.epoch(epoch(epoch));
            }
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName("m").setVersion(1)).build();
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, runner)) {
            String id = jobs.submit(RECIPE);
            Events events = follow(jobs, id);
            assertEquals(List.of(JobEvent.EventCase.QUEUED, JobEvent.EventCase.STAGE, JobEvent.EventCase.EPOCH,
                    JobEvent.EventCase.EPOCH, JobEvent.EventCase.FINISHED), events.kinds());
            Job job = jobs.get(id);
            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState());
            assertEquals(1, job.getSequence());
            assertEquals(2, job.getEpochsCount());
            assertEquals("m", job.getModel().getName());
            assertEquals(job, record(id));
        }
    }

    @Test
    void aFailingJobKeepsItsMessageAndTheQueueGoesOn() throws Exception {
        JobRunner runner = (recipe, context) -> {
            if (recipe.getOutputModel().equals("bad")) {
                throw DistilleryException.invalid("teacher went away");
            }
            return Finished.getDefaultInstance();
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, runner)) {
            String bad = jobs.submit(named("bad"));
            String good = jobs.submit(RECIPE);
            Events badEvents = follow(jobs, bad);
            Events goodEvents = follow(jobs, good);
            assertEquals(JobEvent.EventCase.FAILED, badEvents.last());
            assertEquals(JobEvent.EventCase.FINISHED, goodEvents.last());
            assertEquals("teacher went away", jobs.get(bad).getError());
            assertEquals(List.of(good, bad), jobs.list().stream().map(Job::getId).toList(), "newest first");
        }
    }

    @Test
    void jobsSubmittedInTheSameMillisecondAreListedInSubmissionOrder() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        JobRunner runner = (recipe, context) -> {
            release.await();
            ran.add(context.jobId());
            return Finished.getDefaultInstance();
        };
        List<String> submitted = new ArrayList<>();
        try (JobManager jobs = InMemoryLauncher.manager(root, runner)) {
            for (int i = 0; i < 50; i++) {
                submitted.add(jobs.submit(RECIPE));
            }
            assertEquals(newestFirst(submitted), jobs.list().stream().map(Job::getId).toList());
            assertEquals(50, jobs.get(submitted.get(49)).getSequence());
            release.countDown();
            follow(jobs, submitted.get(49)).kinds();
            assertEquals(submitted, ran, "the queue runs in submission order");
        }
        try (JobManager restarted = InMemoryLauncher.manager(root, (recipe, context) -> Finished.getDefaultInstance())) {
            assertEquals(newestFirst(submitted), restarted.list().stream().map(Job::getId).toList(), "records keep the order");
            String next = restarted.submit(RECIPE);
            assertEquals(51, restarted.get(next).getSequence(), "numbering goes on after a restart");
            assertEquals(next, restarted.list().get(0).getId());
        }
    }

    @Test
    void cancellingARunningJobStopsIt() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        try (JobManager jobs = InMemoryLauncher.manager(root, (recipe, context) -> untilStopped(context, running))) {
            String id = jobs.submit(RECIPE);
            assertTrue(running.await(10, TimeUnit.SECONDS));
            jobs.cancel(id);
            assertEquals(JobEvent.EventCase.CANCELLED, follow(jobs, id).last());
            assertEquals(JobState.JOB_STATE_CANCELLED, jobs.get(id).getState());
            DistilleryException again = assertThrows(DistilleryException.class, () -> jobs.cancel(id));
            assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, again.kind());
        }
    }

    @Test
    void unknownJobsAreNotFound() throws Exception {
        try (JobManager jobs = InMemoryLauncher.manager(root, (r, c) -> Finished.getDefaultInstance())) {
            assertEquals(DistilleryException.Kind.NOT_FOUND,
                    assertThrows(DistilleryException.class, () -> jobs.get("nope")).kind());
            assertEquals(DistilleryException.Kind.NOT_FOUND,
                    assertThrows(DistilleryException.class, () -> jobs.watch("nope", e -> {})).kind());
            assertEquals(DistilleryException.Kind.INVALID_ARGUMENT,
                    assertThrows(DistilleryException.class, () -> jobs.cancel("")).kind());
        }
    }

    @Test
    void theWorkFolderIsDeletedWhenAJobEndsHoweverItEnds() throws Exception {
        CountDownLatch cancellable = new CountDownLatch(1);
        JobRunner runner = (recipe, context) -> {
            Files.createDirectories(context.workDirectory());
            Files.writeString(context.workDirectory().resolve("checkpoint"), "epoch 1");
            return switch (recipe.getOutputModel()) {
                case "bad" -> throw new IllegalStateException("disk full");
                case "cancelled" -> untilStopped(context, cancellable);
                default -> Finished.getDefaultInstance();
            };
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, runner)) {
            String good = jobs.submit(named("good"));
            String bad = jobs.submit(named("bad"));
            String cancelled = jobs.submit(named("cancelled"));
            assertTrue(cancellable.await(10, TimeUnit.SECONDS));
            assertTrue(Files.exists(root.resolve(cancelled).resolve("checkpoint")), "the running job's folder exists");
            jobs.cancel(cancelled);
            assertEquals(JobEvent.EventCase.CANCELLED, follow(jobs, cancelled).last());
            assertEquals(JobEvent.EventCase.FINISHED, follow(jobs, good).last());
            assertEquals(JobEvent.EventCase.FAILED, follow(jobs, bad).last());
            for (String id : List.of(good, bad, cancelled)) {
                assertFalse(Files.exists(root.resolve(id)), "work folder of " + jobs.get(id).getState());
                assertTrue(Files.exists(root.resolve(id + ".json")), "the record stays");
            }
        }
    }

    /**
     * A crash (the first manager is never closed) leaves one running job with a checkpoint, two queued
     * jobs and three ended ones. The next start runs the unfinished ones again, in their order, the
     * running one first, with its checkpoint; the ended ones stay as they were.
     */
    @Test
    void afterACrashUnfinishedJobsRunAgainInOrderAndEndedOnesStay() throws Exception {
        CountDownLatch crashed = new CountDownLatch(1);
        JobManager first = InMemoryLauncher.manager(root, (recipe, context) -> switch (recipe.getOutputModel()) {
            case "bad" -> throw DistilleryException.invalid("teacher went away");
            case "running" -> {
                context.epoch(epoch(1));
                Files.createDirectories(context.workDirectory());
                Files.writeString(context.workDirectory().resolve("checkpoint"), "after epoch 1");
                crashed.countDown();
                yield untilStopped(context, new CountDownLatch(1));
            }
            default -> Finished.getDefaultInstance();
        });
        String good = first.submit(named("good"));
        String bad = first.submit(named("bad"));
        String running = first.submit(named("running"));
        String queued1 = first.submit(named("queued1"));
        String cancelled = first.submit(named("cancelled"));
        String queued2 = first.submit(named("queued2"));
        first.cancel(cancelled);
        assertTrue(crashed.await(10, TimeUnit.SECONDS));
        assertEquals(JobState.JOB_STATE_RUNNING, record(running).getState());
        assertEquals(1, record(running).getEpochsCount(), "every epoch is recorded as it ends");

        List<String> ran = new CopyOnWriteArrayList<>();
        List<Boolean> foundCheckpoint = new CopyOnWriteArrayList<>();
        try (JobManager second = InMemoryLauncher.manager(root, (recipe, context) -> {
            ran.add(context.jobId());
            foundCheckpoint.add(Files.exists(context.workDirectory().resolve("checkpoint")));
            if (recipe.getOutputModel().equals("running")) {
                context.epoch(epoch(1)); // run again: the checkpoint may be older than the record
                context.epoch(epoch(2));
            }
            return Finished.getDefaultInstance();
        })) {
            Events resumed = follow(second, running);
            assertEquals(JobEvent.EventCase.FINISHED, follow(second, queued2).last());
            assertEquals(List.of(running, queued1, queued2), ran);
            assertEquals(List.of(true, false, false), foundCheckpoint);

            Job job = second.get(running);
            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState());
            assertEquals(1, job.getResumes());
            assertEquals(List.of(1, 2), job.getEpochsList().stream().map(EpochProgress::getEpoch).toList(),
                    "an epoch run again replaces the recorded one");
            assertEquals(List.of("restored", "resumed"), resumed.stages());
            assertTrue(resumed.seen.stream().anyMatch(e -> e.getStage().getMessage().startsWith("resumed after a restart")));
            assertEquals(List.of(JobEvent.EventCase.STAGE, JobEvent.EventCase.EPOCH, JobEvent.EventCase.STAGE,
                    JobEvent.EventCase.EPOCH, JobEvent.EventCase.EPOCH, JobEvent.EventCase.FINISHED), resumed.kinds());
            assertFalse(Files.exists(root.resolve(running)), "the checkpoint goes once the job has ended");
            assertEquals(0, second.get(queued1).getResumes(), "a queued job had not started: nothing resumed");

            assertEquals(JobState.JOB_STATE_SUCCEEDED, second.get(good).getState());
            assertEquals(JobState.JOB_STATE_FAILED, second.get(bad).getState());
            assertEquals("teacher went away", second.get(bad).getError());
            assertEquals(JobState.JOB_STATE_CANCELLED, second.get(cancelled).getState());
            assertEquals(List.of(queued2, cancelled, queued1, running, bad, good),
                    second.list().stream().map(Job::getId).toList());
        }
        first.close();
    }

    @Test
    void aCleanShutdownLeavesTheRunningJobResumable() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        JobManager first = InMemoryLauncher.manager(root, (recipe, context) -> untilStopped(context, running));
        String interrupted = first.submit(named("interrupted"));
        String waiting = first.submit(named("waiting"));
        assertTrue(running.await(10, TimeUnit.SECONDS));
        Events events = follow(first, interrupted);
        first.close();
        assertEquals("interrupted", events.stages().get(events.stages().size() - 1), "watchers hear why it stopped");
        assertEquals(JobState.JOB_STATE_RUNNING, record(interrupted).getState());
        assertEquals(JobState.JOB_STATE_QUEUED, record(waiting).getState());

        List<String> ran = new CopyOnWriteArrayList<>();
        try (JobManager second = InMemoryLauncher.manager(root, (recipe, context) -> {
            ran.add(context.jobId());
            return Finished.getDefaultInstance();
        })) {
            assertEquals(JobEvent.EventCase.FINISHED, follow(second, waiting).last());
            assertEquals(List.of(interrupted, waiting), ran);
            assertEquals(1, second.get(interrupted).getResumes());
            assertEquals(JobState.JOB_STATE_SUCCEEDED, second.get(interrupted).getState());
        }
    }

    @Test
    void aJobCancelledByItsUserStaysCancelledThroughAShutdown() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        JobManager first = InMemoryLauncher.manager(root, (recipe, context) -> untilStopped(context, running));
        String id = first.submit(RECIPE);
        assertTrue(running.await(10, TimeUnit.SECONDS));
        first.cancel(id);
        first.close();
        assertEquals(JobState.JOB_STATE_CANCELLED, record(id).getState());
        List<String> ran = new CopyOnWriteArrayList<>();
        try (JobManager second = InMemoryLauncher.manager(root, (recipe, context) -> {
            ran.add(context.jobId());
            return Finished.getDefaultInstance();
        })) {
            assertEquals(JobState.JOB_STATE_CANCELLED, second.get(id).getState());
            assertEquals(JobEvent.EventCase.CANCELLED, follow(second, id).last());
            assertEquals(0, second.get(id).getResumes());
        }
        assertEquals(List.of(), ran);
    }

    @Test
    void upToMaxRunningJobsRunAtOnceAndTheRestWaitInOrder() throws Exception {
        CountDownLatch twoRunning = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        JobRunner runner = (recipe, context) -> {
            twoRunning.countDown();
            assertTrue(release.await(30, TimeUnit.SECONDS));
            return Finished.getDefaultInstance();
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, runner, new JobManager.Settings(2, Duration.ofSeconds(30)),
                finished -> {})) {
            String first = jobs.submit(named("first"));
            String second = jobs.submit(named("second"));
            String third = jobs.submit(named("third"));
            assertTrue(twoRunning.await(30, TimeUnit.SECONDS), "two jobs run at once");
            assertEquals(JobState.JOB_STATE_RUNNING, jobs.get(first).getState());
            assertEquals(JobState.JOB_STATE_RUNNING, jobs.get(second).getState());
            assertEquals(JobState.JOB_STATE_QUEUED, jobs.get(third).getState(), "the third waits for a free slot");
            release.countDown();
            assertEquals(JobEvent.EventCase.FINISHED, follow(jobs, third).last());
            assertEquals(JobEvent.EventCase.FINISHED, follow(jobs, first).last());
        }
    }

    @Test
    void aWorkerThatDiesFailsItsJobSayingHowItEndedAndTheQueueGoesOn() throws Exception {
        JobRunner runner = (recipe, context) -> {
            if (recipe.getOutputModel().equals("crash")) {
                context.epoch(epoch(1));
                throw new InMemoryLauncher.Crash(128 + 9);
            }
            return Finished.getDefaultInstance();
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, runner)) {
            String crashed = jobs.submit(named("crash"));
            String next = jobs.submit(named("next"));
            assertEquals(JobEvent.EventCase.FAILED, follow(jobs, crashed).last());
            assertEquals(JobEvent.EventCase.FINISHED, follow(jobs, next).last());
            Job job = jobs.get(crashed);
            assertTrue(job.getError().contains("ended with exit code 137 (killed by signal 9, SIGKILL) before the job ended"),
                    job.getError());
            assertEquals(1, job.getEpochsCount(), "what it reported before it died is kept");
            assertFalse(Files.exists(root.resolve(crashed)), "its work folder is deleted");
        }
    }

    @Test
    void aWorkerThatIgnoresACancelIsTerminatedAfterTheGracePeriod() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        JobRunner deaf = (recipe, context) -> {
            running.countDown();
            new CountDownLatch(1).await(); // never looks at context.cancelled(); only terminate() ends it
            throw new IllegalStateException("unreachable");
        };
        try (JobManager jobs = InMemoryLauncher.manager(root, deaf, new JobManager.Settings(1, Duration.ofMillis(200)),
                finished -> {})) {
            String id = jobs.submit(RECIPE);
            assertTrue(running.await(30, TimeUnit.SECONDS));
            jobs.cancel(id);
            assertEquals(JobEvent.EventCase.CANCELLED, follow(jobs, id).last());
            assertEquals(JobState.JOB_STATE_CANCELLED, jobs.get(id).getState());
        }
    }

    @Test
    void aModelThatCannotBeServedFailsItsJob() throws Exception {
        JobRunner runner = (recipe, context) -> Finished.newBuilder().setModel(ModelRef.newBuilder().setName("m").setVersion(1)).build();
        try (JobManager jobs = InMemoryLauncher.manager(root, runner, new JobManager.Settings(1, Duration.ofSeconds(30)),
                finished -> {
                    throw DistilleryException.precondition("model m/1 is stored but cannot be served: bad file");
                })) {
            String id = jobs.submit(RECIPE);
            assertEquals(JobEvent.EventCase.FAILED, follow(jobs, id).last());
            assertEquals("model m/1 is stored but cannot be served: bad file", jobs.get(id).getError());
        }
    }

    @Test
    void settingsRefuseLessThanOneRunningJob() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new JobManager.Settings(0, Duration.ofSeconds(1)));
        assertTrue(error.getMessage().contains("distillery.jobs.max-running"), error.getMessage());
    }

    @Test
    void aResumedJobCancelledBeforeItsWorkerStartsEndsCancelledWithoutOne() throws Exception {
        CountDownLatch bothRunning = new CountDownLatch(2);
        JobManager crashed = InMemoryLauncher.manager(root, (recipe, context) -> untilStopped(context, bothRunning),
                new JobManager.Settings(2, Duration.ofSeconds(30)), finished -> {});
        String first = crashed.submit(named("first"));
        String second = crashed.submit(named("second"));
        assertTrue(bothRunning.await(10, TimeUnit.SECONDS));

        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        try (JobManager restarted = InMemoryLauncher.manager(root, (recipe, context) -> {
            ran.add(context.jobId());
            assertTrue(release.await(30, TimeUnit.SECONDS));
            return Finished.getDefaultInstance();
        })) {
            assertEquals(JobState.JOB_STATE_RUNNING, restarted.get(second).getState(), "resumed, waiting for a slot");
            restarted.cancel(second);
            release.countDown();
            assertEquals(JobEvent.EventCase.FINISHED, follow(restarted, first).last());
            assertEquals(JobEvent.EventCase.CANCELLED, follow(restarted, second).last());
            assertEquals(List.of(first), ran, "no worker ran the cancelled job");
        }
        crashed.close();
    }
}
