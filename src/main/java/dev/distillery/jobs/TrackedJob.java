package dev.distillery.jobs;

import com.google.protobuf.util.Timestamps;
import dev.distillery.v1.Cancelled;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Failed;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrialResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * One job's state and event history. Every change is recorded and then announced under the job's
 * lock, so a new watcher gets the whole history and then every later event, none twice and none
 * lost, and the record on disk is never older than what a watcher has heard.
 *
 * <p>The history is kept in memory only. A job read back after a restart gets a history rebuilt
 * from its record ({@link #restore}): a "restored" stage, one event per recorded epoch and, for an
 * ended job, its ending (a "finished" event then names the model only: the record keeps no more).
 */
final class TrackedJob {

    private static final Logger LOG = Logger.getLogger(TrackedJob.class);

    private final Job.Builder job;
    private final List<JobEvent> events = new ArrayList<>();
    private final List<Consumer<JobEvent>> watchers = new CopyOnWriteArrayList<>();
    private final Consumer<Job> persist;
    private final Path workDirectory;
    private volatile boolean cancelRequested;
    /** The worker running the job now; null while it is queued and once its worker has ended. */
    private WorkerAttempt attempt;

    private TrackedJob(Job job, Consumer<Job> persist, Path workDirectory) {
        this.job = job.toBuilder();
        this.persist = persist;
        this.workDirectory = workDirectory;
    }

    /** A new job, not yet recorded: the caller's first {@link #transition} records it. */
    static TrackedJob create(String id, long sequence, Recipe recipe, Consumer<Job> persist, Path workDirectory) {
        Job job = Job.newBuilder()
                .setId(id)
                .setSequence(sequence)
                .setState(JobState.JOB_STATE_QUEUED)
                .setRecipe(recipe)
                .setCreated(Timestamps.fromMillis(System.currentTimeMillis()))
                .build();
        return new TrackedJob(job, persist, workDirectory);
    }

    /** A job read back from its record after a restart, with a history rebuilt from that record. */
    static TrackedJob restore(Job record, Consumer<Job> persist, Path workDirectory) {
        TrackedJob restored = new TrackedJob(record, persist, workDirectory);
        synchronized (restored) {
            restored.emit(JobEvent.newBuilder().setStage(Stage.newBuilder().setName("restored").setMessage(String.format(
                    "the server restarted; events from before it were not kept, so this replays the job's record "
                            + "(%s, %d epochs)", record.getState(), record.getEpochsCount()))));
            record.getEpochsList().forEach(epoch -> restored.emit(JobEvent.newBuilder().setEpoch(epoch)));
            switch (record.getState()) {
                case JOB_STATE_SUCCEEDED -> restored.emit(JobEvent.newBuilder().setFinished(
                        Finished.newBuilder().setModel(record.getModel())));
                case JOB_STATE_FAILED -> restored.emit(JobEvent.newBuilder().setFailed(
                        Failed.newBuilder().setMessage(record.getError())));
                case JOB_STATE_CANCELLED -> restored.emit(JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance()));
                default -> { } // still to run: the job manager queues it again and says so
            }
        }
        return restored;
    }

    synchronized Job snapshot() {
        return job.build();
    }

    String jobId() {
        return job.getId();
    }

    synchronized WorkerAttempt attempt() {
        return attempt;
    }

    synchronized void attempt(WorkerAttempt running) {
        attempt = running;
    }

    synchronized JobState state() {
        return job.getState();
    }

    synchronized boolean terminal() {
        return isTerminal(job.getState());
    }

    static boolean isTerminal(JobState state) {
        return state == JobState.JOB_STATE_SUCCEEDED
                || state == JobState.JOB_STATE_FAILED
                || state == JobState.JOB_STATE_CANCELLED;
    }

    synchronized void stage(String name, String message) {
        emit(JobEvent.newBuilder().setStage(Stage.newBuilder().setName(name).setMessage(message)));
    }

    /**
     * Records the epoch and tells the watchers. An epoch run again after a restart (the checkpoint was
     * older than the record) replaces the one recorded before, and every epoch after it.
     */
    synchronized void epoch(EpochProgress progress) {
        List<EpochProgress> recorded = job.getEpochsList();
        for (int i = 0; i < recorded.size(); i++) {
            EpochProgress earlier = recorded.get(i);
            if (earlier.getEpoch() == progress.getEpoch() && earlier.getTrial().equals(progress.getTrial())) {
                List<EpochProgress> kept = List.copyOf(recorded.subList(0, i));
                job.clearEpochs().addAllEpochs(kept);
                break;
            }
        }
        job.addEpochs(progress);
        persist.accept(job.build());
        emit(JobEvent.newBuilder().setEpoch(progress));
    }

    /** Recorded and written before it is told, as {@link #epoch} does. */
    synchronized void trial(TrialResult result) {
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
        persist.accept(job.build());
        emit(JobEvent.newBuilder().setTrial(result));
    }

    /** CancelJob was called: the job ends cancelled. */
    void requestCancel() {
        cancelRequested = true;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    /** Moves to a state (recording the first start and the end) and emits the event that says so. */
    synchronized void transition(JobState state, JobEvent.Builder event, Consumer<Job.Builder> change) {
        long now = System.currentTimeMillis();
        if (state == JobState.JOB_STATE_RUNNING && !job.hasStarted()) {
            job.setStarted(Timestamps.fromMillis(now));
        }
        if (isTerminal(state)) {
            job.setEnded(Timestamps.fromMillis(now));
        }
        job.setState(state);
        change.accept(job);
        // Recorded before anyone hears of it: a watcher that sees the end can rely on the record, and on
        // the work folder being gone. Deleted after the record, so a crash in between leaves a folder
        // (removed on the next start), never a job that runs twice.
        persist.accept(job.build());
        if (isTerminal(state)) {
            deleteWorkDirectory();
        }
        emit(event);
    }

    /** Deletes the work folder and everything in it; the job has ended, so its checkpoints are of no more use. */
    void deleteWorkDirectory() {
        if (!Files.exists(workDirectory)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(workDirectory)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            LOG.warnf(e, "cannot delete the work folder %s of ended job %s", workDirectory, job.getId());
        }
    }

    // Callers hold the lock, so that watch() cannot interleave a replay with a live event.
    // Watchers must not block: a gRPC stream observer only buffers.
    private void emit(JobEvent.Builder builder) {
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
