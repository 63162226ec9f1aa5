package dev.distillery.jobs;

import com.google.protobuf.util.Timestamps;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrialResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One job's state and event history. Every change goes through {@link #emit}, under the job's lock,
 * so a new watcher gets the whole history and then every later event, none twice and none lost.
 */
final class TrackedJob implements JobContext {

    private final Job.Builder job;
    private final List<JobEvent> events = new ArrayList<>();
    private final List<Consumer<JobEvent>> watchers = new CopyOnWriteArrayList<>();
    private final Consumer<Job> persist;
    private final Path workDirectory;
    private volatile boolean cancelRequested;

    TrackedJob(Job job, Consumer<Job> persist, Path workDirectory) {
        this.job = job.toBuilder();
        this.persist = persist;
        this.workDirectory = workDirectory;
    }

    static TrackedJob create(String id, Recipe recipe, Consumer<Job> persist, Path workDirectory) {
        Job job = Job.newBuilder()
                .setId(id)
                .setState(JobState.JOB_STATE_QUEUED)
                .setRecipe(recipe)
                .setCreated(Timestamps.fromMillis(System.currentTimeMillis()))
                .build();
        return new TrackedJob(job, persist, workDirectory);
    }

    synchronized Job snapshot() {
        return job.build();
    }

    @Override
    public String jobId() {
        return job.getId();
    }

    @Override
    public Path workDirectory() {
        return workDirectory;
    }

    synchronized boolean terminal() {
        return isTerminal(job.getState());
    }

    static boolean isTerminal(JobState state) {
        return state == JobState.JOB_STATE_SUCCEEDED
                || state == JobState.JOB_STATE_FAILED
                || state == JobState.JOB_STATE_CANCELLED;
    }

    @Override
    public void stage(String name, String message) {
        emit(JobEvent.newBuilder().setStage(Stage.newBuilder().setName(name).setMessage(message)));
    }

    @Override
    public void epoch(EpochProgress progress) {
        synchronized (this) {
            job.addEpochs(progress);
        }
        emit(JobEvent.newBuilder().setEpoch(progress));
    }

    @Override
    public void trial(TrialResult result) {
        synchronized (this) {
            List<TrialResult> trials = job.getTrialsList();
            int same = 0;
            while (same < trials.size() && !(trials.get(same).getTemperature() == result.getTemperature()
                    && trials.get(same).getAlpha() == result.getAlpha())) {
                same++;
            }
            if (same < trials.size()) {
                job.setTrials(same, result);
            } else {
                job.addTrials(result);
            }
        }
        emit(JobEvent.newBuilder().setTrial(result));
    }

    @Override
    public boolean cancelled() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    /** Moves to a new state (recording start and end times) and emits the event that says so. */
    void transition(JobState state, JobEvent.Builder event, Consumer<Job.Builder> change) {
        synchronized (this) {
            long now = System.currentTimeMillis();
            if (state == JobState.JOB_STATE_RUNNING) {
                job.setStarted(Timestamps.fromMillis(now));
            }
            if (isTerminal(state)) {
                job.setEnded(Timestamps.fromMillis(now));
            }
            job.setState(state);
            change.accept(job);
        }
        // Recorded before anyone hears of it: a watcher that sees the end can rely on the record.
        persist.accept(snapshot());
        emit(event);
    }

    // Delivery happens under the lock so that watch() cannot interleave a replay with a live event.
    // Watchers must not block: a gRPC stream observer only buffers.
    private synchronized void emit(JobEvent.Builder builder) {
        JobEvent event = builder.setJobId(job.getId()).setTime(Timestamps.fromMillis(System.currentTimeMillis())).build();
        events.add(event);
        for (Consumer<JobEvent> watcher : watchers) {
            watcher.accept(event);
        }
    }

    /** Replays the history to {@code watcher}, then adds it for the events still to come. */
    synchronized JobSubscription watch(Consumer<JobEvent> watcher) {
        events.forEach(watcher);
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }
}
