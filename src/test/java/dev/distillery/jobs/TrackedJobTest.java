package dev.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Timestamps;
import dev.distillery.v1.Cancelled;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrackedJobTest {

    private final List<Job> persisted = new ArrayList<>();

    private static EpochProgress epoch(String trial, int epoch) {
        return EpochProgress.newBuilder().setTrial(trial).setEpoch(epoch).setEpochs(3).build();
    }

    private static List<JobEvent> history(TrackedJob job) {
        List<JobEvent> events = new ArrayList<>();
        job.watch(events::add).close();
        return events;
    }

    private static Job record(JobState state) {
        return Job.newBuilder().setId("j").setSequence(7).setState(state).setRecipe(Recipe.getDefaultInstance())
                .setCreated(Timestamps.fromMillis(1)).setStarted(Timestamps.fromMillis(2))
                .addEpochs(epoch("", 1)).addEpochs(epoch("", 2))
                .build();
    }

    @Test
    void everyEpochIsRecordedAsItEndsAndARerunEpochReplacesTheLaterOnes() {
        TrackedJob job = TrackedJob.create("j", 1, Recipe.getDefaultInstance(), persisted::add, Path.of("j"));
        job.epoch(epoch("T=2", 1));
        job.epoch(epoch("T=2", 2));
        job.epoch(epoch("T=4", 1)); // the next sweep setting starts at epoch 1 again: not a re-run
        job.epoch(epoch("T=4", 2));
        assertEquals(4, persisted.get(persisted.size() - 1).getEpochsCount(), "recorded at every epoch");
        job.epoch(epoch("T=4", 2)); // after a restart from the checkpoint of epoch 1
        assertEquals(List.of(epoch("T=2", 1), epoch("T=2", 2), epoch("T=4", 1), epoch("T=4", 2)),
                job.snapshot().getEpochsList());
        job.epoch(epoch("T=2", 2));
        assertEquals(List.of(epoch("T=2", 1), epoch("T=2", 2)), job.snapshot().getEpochsList());
        assertEquals(6, history(job).size(), "the events keep what happened");
    }

    @Test
    void aRestoredJobReplaysItsRecordAndItsEnding() {
        Job succeeded = record(JobState.JOB_STATE_SUCCEEDED).toBuilder()
                .setEnded(Timestamps.fromMillis(3)).setModel(ModelRef.newBuilder().setName("m").setVersion(4)).build();
        List<JobEvent> events = history(TrackedJob.restore(succeeded, persisted::add, Path.of("j")));
        assertEquals(List.of(JobEvent.EventCase.STAGE, JobEvent.EventCase.EPOCH, JobEvent.EventCase.EPOCH,
                JobEvent.EventCase.FINISHED), events.stream().map(JobEvent::getEventCase).toList());
        assertEquals("restored", events.get(0).getStage().getName());
        assertTrue(events.get(0).getStage().getMessage().contains("JOB_STATE_SUCCEEDED, 2 epochs"),
                events.get(0).getStage().getMessage());
        assertEquals(epoch("", 2), events.get(2).getEpoch());
        assertEquals(succeeded.getModel(), events.get(3).getFinished().getModel());
        assertTrue(events.stream().allMatch(e -> e.getJobId().equals("j")));

        Job failed = record(JobState.JOB_STATE_FAILED).toBuilder().setError("teacher went away").build();
        List<JobEvent> failedEvents = history(TrackedJob.restore(failed, persisted::add, Path.of("j")));
        assertEquals("teacher went away", failedEvents.get(failedEvents.size() - 1).getFailed().getMessage());

        List<JobEvent> cancelledEvents = history(TrackedJob.restore(
                record(JobState.JOB_STATE_CANCELLED), persisted::add, Path.of("j")));
        assertEquals(Cancelled.getDefaultInstance(), cancelledEvents.get(cancelledEvents.size() - 1).getCancelled());

        TrackedJob running = TrackedJob.restore(record(JobState.JOB_STATE_RUNNING), persisted::add, Path.of("j"));
        assertEquals(3, history(running).size(), "no ending for a job that has not ended");
        assertEquals(List.of(), persisted, "restoring writes nothing");
    }

    @Test
    void aJobRunAgainKeepsItsFirstStartTime() {
        TrackedJob job = TrackedJob.restore(record(JobState.JOB_STATE_RUNNING), persisted::add, Path.of("j"));
        job.transition(JobState.JOB_STATE_RUNNING, JobEvent.newBuilder(), b -> b.setResumes(b.getResumes() + 1));
        assertEquals(Timestamps.fromMillis(2), job.snapshot().getStarted());
        assertEquals(1, persisted.get(0).getResumes());
    }
}
