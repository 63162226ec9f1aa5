package dev.distillery.jobs;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Cancelled;
import dev.distillery.v1.Failed;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.Queued;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Stage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The training queue. Jobs run one at a time, in submission order, on one worker thread: training
 * already uses every core, so two at once would only make both slower. Every job gets a sequence
 * number (1, 2, 3, ..., continued after a restart) when it is submitted; it orders the queue and
 * ListJobs. Each job's record is kept as {@code <root>/<id>.json} (the JSON form of {@link Job}),
 * rewritten atomically on every state change and every epoch, so ListJobs still shows finished jobs
 * after a restart. A job's checkpoints live in {@code <root>/<id>/}, deleted once the job has ended.
 *
 * <p>Jobs outlive the server. On start, a job whose record says queued or running is queued again,
 * in its original order: a running one counts a resume and runs again from its last checkpoint.
 * That covers a crash or {@code kill -9} as well as a clean shutdown, which therefore records
 * nothing: it stops the running job at its next batch and leaves every record as it was. Jobs that
 * had ended (succeeded, failed, cancelled by a user) stay as they ended.
 */
public final class JobManager implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JobManager.class);

    /**
     * Oldest first. Sequence numbers are unique; the tie-breaks only order records written before
     * jobs had them (sequence 0).
     */
    private static final Comparator<Job> SUBMISSION_ORDER = Comparator.comparingLong(Job::getSequence)
            .thenComparing(Job::getCreated, Timestamps.comparator())
            .thenComparing(Job::getId);

    private final Path root;
    private final JobRunner runner;
    private final Map<String, TrackedJob> jobs = new ConcurrentHashMap<>();
    /** The newest job's sequence number; guarded by {@code this}. */
    private long lastSequence;
    private volatile boolean closing;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "distillery-training");
        thread.setDaemon(true);
        return thread;
    });

    public JobManager(Path root, JobRunner runner) {
        this.root = root.toAbsolutePath().normalize();
        this.runner = runner;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the job folder " + this.root, e);
        }
        recover();
    }

    /**
     * Queues a validated recipe and returns the job's id; {@link #watch} then replays its events from the
     * first. Synchronized so that sequence numbers and the queue's order agree.
     */
    public synchronized String submit(Recipe recipe) {
        int ahead = (int) jobs.values().stream().filter(j -> !j.terminal()).count();
        String id = UUID.randomUUID().toString();
        TrackedJob job = TrackedJob.create(id, ++lastSequence, recipe, this::write, root.resolve(id));
        jobs.put(id, job);
        job.transition(JobState.JOB_STATE_QUEUED, queued(ahead), b -> {});
        worker.submit(() -> run(job));
        return id;
    }

    public Job get(String id) {
        return find(id).snapshot();
    }

    /** Newest first, by sequence number. */
    public List<Job> list() {
        return jobs.values().stream()
                .map(TrackedJob::snapshot)
                .sorted(SUBMISSION_ORDER.reversed())
                .toList();
    }

    /** Ids of the queued and running jobs whose recipe names {@code modelName} as its teacher or its output_model. */
    public List<String> jobsUsing(String modelName) {
        return jobs.values().stream()
                .filter(job -> !job.terminal())
                .map(TrackedJob::snapshot)
                .filter(job -> job.getRecipe().getOutputModel().equals(modelName)
                        || job.getRecipe().hasTeacher() && job.getRecipe().getTeacher().getName().equals(modelName))
                .map(Job::getId)
                .sorted()
                .toList();
    }

    /** Follows a job: its history first, then live events until it ends. */
    public JobSubscription watch(String id, Consumer<JobEvent> watcher) {
        return find(id).watch(watcher);
    }

    /** Cancels a queued job at once, a running one at its next batch. Ended jobs are left as they are. */
    public Job cancel(String id) {
        TrackedJob job = find(id);
        synchronized (job) {
            if (job.terminal()) {
                throw DistilleryException.precondition("job %s has already ended (%s)", id, job.snapshot().getState());
            }
            job.requestCancel();
            if (job.state() == JobState.JOB_STATE_QUEUED) {
                job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
            }
        }
        return job.snapshot();
    }

    private TrackedJob find(String id) {
        if (id == null || id.isEmpty()) {
            throw DistilleryException.invalid("job_id is empty: use the id from Train's events or ListJobs");
        }
        TrackedJob job = jobs.get(id);
        if (job == null) {
            throw DistilleryException.notFound("no job with id '%s'; ListJobs shows the known jobs", id);
        }
        return job;
    }

    private void run(TrackedJob job) {
        synchronized (job) {
            if (job.terminal() || closing) {
                return; // cancelled while queued, or the server is stopping: the record still says queued
            }
            if (job.state() == JobState.JOB_STATE_QUEUED) {
                job.transition(JobState.JOB_STATE_RUNNING, JobEvent.newBuilder().setStage(
                        Stage.newBuilder().setName("started").setMessage("job started")), b -> {});
            } // else running already: resumed after a restart, which recover() has announced
        }
        try {
            Finished finished = runner.run(job.snapshot().getRecipe(), job);
            job.transition(JobState.JOB_STATE_SUCCEEDED, JobEvent.newBuilder().setFinished(finished),
                    b -> b.setModel(finished.getModel()));
        } catch (Exception | Error e) {
            if (job.cancelRequested() && (e instanceof CancellationException || closing)) {
                job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
            } else if (closing) {
                LOG.infof("job %s stopped by the shutdown; it resumes on the next start", job.jobId());
                job.stage("interrupted", "the server is shutting down; the job continues from its last checkpoint "
                        + "when the server starts again");
            } else {
                LOG.errorf(e, "job %s failed", job.jobId());
                String message = e instanceof DistilleryException ? e.getMessage()
                        : e.getClass().getSimpleName() + ": " + e.getMessage();
                job.transition(JobState.JOB_STATE_FAILED, JobEvent.newBuilder().setFailed(Failed.newBuilder().setMessage(message)),
                        b -> b.setError(message));
            }
        }
    }

    private static JobEvent.Builder queued(int ahead) {
        return JobEvent.newBuilder().setQueued(Queued.newBuilder().setPosition(ahead));
    }

    private static JobEvent.Builder cancelled() {
        return JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance());
    }

    private void write(Job job) {
        Path file = root.resolve(job.getId() + ".json");
        Path temp = root.resolve(job.getId() + ".json.tmp");
        try {
            Files.writeString(temp, JsonFormat.printer().preservingProtoFieldNames().print(job) + "\n",
                    StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.errorf(e, "cannot record job %s in %s", job.getId(), root);
        }
    }

    /**
     * Loads the records of earlier runs, in submission order, and queues again the jobs they left
     * unfinished.
     */
    private void recover() {
        List<Job> records = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                Job.Builder builder = Job.newBuilder();
                try {
                    JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(file, StandardCharsets.UTF_8), builder);
                } catch (InvalidProtocolBufferException e) {
                    LOG.warnf("skipping unreadable job record %s: %s", file, e.getMessage());
                    continue;
                }
                records.add(builder.build());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read job records in " + root, e);
        }
        records.sort(SUBMISSION_ORDER);
        int ahead = 0;
        for (Job record : records) {
            lastSequence = Math.max(lastSequence, record.getSequence());
            TrackedJob job = TrackedJob.restore(record, this::write, root.resolve(record.getId()));
            jobs.put(job.jobId(), job);
            switch (record.getState()) {
                case JOB_STATE_RUNNING -> job.transition(JobState.JOB_STATE_RUNNING, JobEvent.newBuilder().setStage(
                        Stage.newBuilder().setName("resumed").setMessage(String.format(
                                "resumed after a restart (resume %d): the run continues from its last checkpoint",
                                record.getResumes() + 1))), b -> b.setResumes(b.getResumes() + 1));
                case JOB_STATE_QUEUED -> job.transition(JobState.JOB_STATE_QUEUED, queued(ahead), b -> {});
                default -> {
                    job.deleteWorkDirectory(); // left behind if the server stopped right after the job ended
                    continue;
                }
            }
            ahead++;
            worker.submit(() -> run(job));
        }
    }

    /**
     * Stops the running job at its next batch and drops the queue without recording anything: every
     * unfinished job keeps its queued or running record and resumes on the next start. The worker is
     * not interrupted, so that a checkpoint or a model being written is finished, not cut short.
     */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        jobs.values().forEach(TrackedJob::requestStop);
        worker.shutdown(); // the queued jobs' turns come and return at once
        if (!worker.awaitTermination(30, TimeUnit.SECONDS)) {
            LOG.warn("the running job did not stop within 30 s of the shutdown");
        }
    }
}
