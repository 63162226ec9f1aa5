package dev.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobManagerTest {

    @TempDir
    Path root;

    private static final Recipe RECIPE = Recipe.newBuilder().setOutputModel("m").setEpochs(2).build();

    /** Collects a job's events and lets a test wait for its end. */
    private static final class Events implements java.util.function.Consumer<JobEvent> {
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
    }

    @Test
    void aJobStreamsItsEventsAndRecordsItsModel() throws Exception {
        JobRunner runner = (recipe, context) -> {
            for (int epoch = 1; epoch <= recipe.getEpochs(); epoch++) {
                context.epoch(EpochProgress.newBuilder().setEpoch(epoch).setEpochs(recipe.getEpochs()).build());
            }
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName("m").setVersion(1)).build();
        };
        try (JobManager jobs = new JobManager(root, runner)) {
            String id = jobs.submit(RECIPE);
            Events events = new Events();
            jobs.watch(id, events);
            assertEquals(List.of(JobEvent.EventCase.QUEUED, JobEvent.EventCase.STAGE, JobEvent.EventCase.EPOCH,
                    JobEvent.EventCase.EPOCH, JobEvent.EventCase.FINISHED), events.kinds());
            Job job = jobs.get(id);
            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState());
            assertEquals(2, job.getEpochsCount());
            assertEquals("m", job.getModel().getName());
            assertTrue(Files.readString(root.resolve(id + ".json")).contains("JOB_STATE_SUCCEEDED"));
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
        try (JobManager jobs = new JobManager(root, runner)) {
            String bad = jobs.submit(RECIPE.toBuilder().setOutputModel("bad").build());
            String good = jobs.submit(RECIPE);
            Events badEvents = new Events();
            Events goodEvents = new Events();
            jobs.watch(bad, badEvents);
            jobs.watch(good, goodEvents);
            assertEquals(JobEvent.EventCase.FAILED, badEvents.kinds().get(badEvents.seen.size() - 1));
            assertEquals(JobEvent.EventCase.FINISHED, goodEvents.kinds().get(goodEvents.seen.size() - 1));
            assertEquals("teacher went away", jobs.get(bad).getError());
            assertEquals(List.of(good, bad), jobs.list().stream().map(Job::getId).toList(), "newest first");
        }
    }

    @Test
    void cancellingARunningJobStopsIt() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        JobRunner runner = (recipe, context) -> {
            running.countDown();
            while (!context.cancelled()) {
                Thread.sleep(5);
            }
            throw new CancellationException();
        };
        try (JobManager jobs = new JobManager(root, runner)) {
            String id = jobs.submit(RECIPE);
            assertTrue(running.await(10, TimeUnit.SECONDS));
            jobs.cancel(id);
            Events events = new Events();
            jobs.watch(id, events);
            assertEquals(JobEvent.EventCase.CANCELLED, events.kinds().get(events.seen.size() - 1));
            assertEquals(JobState.JOB_STATE_CANCELLED, jobs.get(id).getState());
            DistilleryException again = assertThrows(DistilleryException.class, () -> jobs.cancel(id));
            assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, again.kind());
        }
    }

    @Test
    void aJobRunningAtShutdownIsRecordedAsFailedNotCancelled() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        JobManager jobs = new JobManager(root, (recipe, context) -> {
            running.countDown();
            while (!context.cancelled()) {
                Thread.sleep(5);
            }
            throw new CancellationException();
        });
        String id = jobs.submit(RECIPE);
        assertTrue(running.await(10, TimeUnit.SECONDS));
        jobs.close();
        Job job = jobs.get(id);
        assertEquals(JobState.JOB_STATE_FAILED, job.getState());
        assertTrue(job.getError().contains("shut down"), job.getError());
        assertTrue(Files.readString(root.resolve(id + ".json")).contains("JOB_STATE_FAILED"));
    }

    @Test
    void unknownJobsAreNotFound() throws Exception {
        try (JobManager jobs = new JobManager(root, (r, c) -> Finished.getDefaultInstance())) {
            assertEquals(DistilleryException.Kind.NOT_FOUND,
                    assertThrows(DistilleryException.class, () -> jobs.get("nope")).kind());
            assertEquals(DistilleryException.Kind.INVALID_ARGUMENT,
                    assertThrows(DistilleryException.class, () -> jobs.cancel("")).kind());
        }
    }

    @Test
    void aJobInterruptedByARestartIsMarkedFailed() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        String id;
        JobManager first = new JobManager(root, (recipe, context) -> {
            running.countDown();
            new CountDownLatch(1).await();
            return Finished.getDefaultInstance();
        });
        id = first.submit(RECIPE);
        assertTrue(running.await(10, TimeUnit.SECONDS));
        // Simulate a crash: the record on disk still says RUNNING.
        assertTrue(Files.readString(root.resolve(id + ".json")).contains("JOB_STATE_RUNNING"));
        try (JobManager second = new JobManager(root, (r, c) -> Finished.getDefaultInstance())) {
            Job job = second.get(id);
            assertEquals(JobState.JOB_STATE_FAILED, job.getState());
            assertTrue(job.getError().contains("submit the recipe again"), job.getError());
        }
        first.close();
    }
}
