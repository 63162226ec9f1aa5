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
 * already uses every core, so two at once would only make both slower. Each job's record is kept as
 * {@code <root>/<id>.json} (the JSON form of {@link Job}) and rewritten on every state change, so
 * ListJobs still shows finished jobs after a restart. A job that was queued or running when the
 * server stopped is marked failed on the next start: it has to be submitted again.
 */
public final class JobManager implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JobManager.class);

    private final Path root;
    private final JobRunner runner;
    private final Map<String, TrackedJob> jobs = new ConcurrentHashMap<>();
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

    /** Queues a validated recipe and returns the job's id; {@link #watch} then replays its events from the first. */
    public String submit(Recipe recipe) {
        int ahead = (int) jobs.values().stream().filter(j -> !j.terminal()).count();
        TrackedJob job = TrackedJob.create(UUID.randomUUID().toString(), recipe, this::write);
        jobs.put(job.jobId(), job);
        job.transition(JobState.JOB_STATE_QUEUED,
                JobEvent.newBuilder().setQueued(Queued.newBuilder().setPosition(ahead)), b -> {});
        worker.submit(() -> run(job));
        return job.jobId();
    }

    public Job get(String id) {
        return find(id).snapshot();
    }

    /** Newest first. */
    public List<Job> list() {
        return jobs.values().stream()
                .map(TrackedJob::snapshot)
                .sorted(Comparator.comparing(Job::getCreated, Timestamps.comparator()).reversed())
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
            if (job.snapshot().getState() == JobState.JOB_STATE_QUEUED) {
                job.transition(JobState.JOB_STATE_CANCELLED, JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance()), b -> {});
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
            if (job.terminal()) {
                return; // cancelled while queued
            }
            job.transition(JobState.JOB_STATE_RUNNING, JobEvent.newBuilder().setStage(
                    Stage.newBuilder().setName("started").setMessage("job started")), b -> {});
        }
        try {
            Finished finished = runner.run(job.snapshot().getRecipe(), job);
            job.transition(JobState.JOB_STATE_SUCCEEDED, JobEvent.newBuilder().setFinished(finished),
                    b -> b.setModel(finished.getModel()));
        } catch (Exception | Error e) {
            if (closing) {
                fail(job, "the server shut down while this job was running; submit the recipe again");
            } else if (e instanceof CancellationException) {
                job.transition(JobState.JOB_STATE_CANCELLED,
                        JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance()), b -> {});
            } else {
                LOG.errorf(e, "job %s failed", job.jobId());
                fail(job, e instanceof DistilleryException ? e.getMessage()
                        : e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    private static void fail(TrackedJob job, String message) {
        job.transition(JobState.JOB_STATE_FAILED, JobEvent.newBuilder().setFailed(Failed.newBuilder().setMessage(message)),
                b -> b.setError(message));
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

    /** Loads the records of earlier runs; jobs they left unfinished are marked failed. */
    private void recover() {
        try (Stream<Path> files = Files.list(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                Job.Builder builder = Job.newBuilder();
                try {
                    JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(file, StandardCharsets.UTF_8), builder);
                } catch (InvalidProtocolBufferException e) {
                    LOG.warnf("skipping unreadable job record %s: %s", file, e.getMessage());
                    continue;
                }
                TrackedJob job = new TrackedJob(builder.build(), this::write);
                jobs.put(job.jobId(), job);
                if (!job.terminal()) {
                    fail(job, "the server stopped while this job was " + builder.getState() + "; submit the recipe again");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read job records in " + root, e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        jobs.values().forEach(TrackedJob::requestCancel);
        worker.shutdownNow();
        worker.awaitTermination(30, TimeUnit.SECONDS);
    }
}
