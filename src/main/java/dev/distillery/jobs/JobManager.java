package dev.distillery.jobs;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.distillery.error.DistilleryException;
import dev.distillery.internal.v1.Assignment;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.Stop;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The training queue. Each job runs in a worker of its own, started by a {@link JobLauncher}, at most
 * {@code maxRunning} at a time, in submission order. Every job gets a sequence number (1, 2, 3, ...,
 * continued after a restart) when it is submitted; it orders the queue and ListJobs. Each job's record
 * is kept as {@code <root>/<id>.json} (the JSON form of {@link Job}), rewritten atomically on every
 * state change and every epoch, so ListJobs still shows finished jobs after a restart. A job's
 * checkpoints live in {@code <root>/<id>/}, deleted once the job has ended.
 *
 * <p>A worker claims its job with the token made for that run ({@link #claim}), reports the job's
 * events through its {@link WorkerLink} and exits. A worker that exits without having reported the
 * job's end (killed, crashed) fails the job with a message that says how it ended; a cancelled job's
 * worker is asked to stop, terminated if it has not within the grace period, and ended for good once it
 * has stopped (a Kubernetes Job is deleted).
 *
 * <p>Jobs outlive the server. On {@link #start}, a job whose record says queued or running is queued
 * again, in its original order: a running one counts a resume and its new worker carries on from the
 * last checkpoint. That covers a crash or {@code kill -9} as well as a clean shutdown, which therefore
 * records nothing: it stops the running workers at their next batch and leaves every record as it
 * was. Jobs that had ended (succeeded, failed, cancelled by a user) stay as they ended.
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

    /**
     * How many jobs run at once, and how long a worker asked to stop (cancel, shutdown) has before it
     * is terminated.
     */
    public record Settings(int maxRunning, Duration stopGrace) {
        public Settings {
            if (maxRunning < 1) {
                throw new IllegalArgumentException("distillery.jobs.max-running must be at least 1, not " + maxRunning);
            }
        }
    }

    private final Path root;
    private final JobLauncher launcher;
    private final Settings settings;
    private final Consumer<Finished> onFinished;
    private final Map<String, TrackedJob> jobs = new ConcurrentHashMap<>();
    /** The newest job's sequence number; guarded by {@code this}. */
    private long lastSequence;
    private volatile boolean closing;
    /** One thread per running job, each waiting for its worker to end; the queue is its task queue. */
    private final ExecutorService running;

    /**
     * Nothing is read or started before {@link #start}: a replica without the control role keeps an
     * idle manager.
     *
     * @param onFinished runs before a job is announced as succeeded (serving loads the new version); a
     *     failure there fails the job
     */
    public JobManager(Path root, JobLauncher launcher, Settings settings, Consumer<Finished> onFinished) {
        this.root = root.toAbsolutePath().normalize();
        this.launcher = launcher;
        this.settings = settings;
        this.onFinished = onFinished;
        AtomicInteger threads = new AtomicInteger();
        this.running = Executors.newFixedThreadPool(settings.maxRunning(), r -> {
            Thread thread = new Thread(r, "distillery-job-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Reads the records of earlier runs and queues again the jobs they left unfinished. */
    public JobManager start() {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the job folder " + root, e);
        }
        recover();
        return this;
    }

    /** True when the job folder is a writable directory. */
    public boolean healthy() {
        return Files.isDirectory(root) && Files.isWritable(root);
    }

    public Path root() {
        return root;
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
        running.submit(() -> run(job));
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

    /**
     * Cancels a queued job at once; a running one's worker is asked to stop at its next batch (and
     * terminated if it has not within the grace period). Ended jobs are left as they are.
     */
    public Job cancel(String id) {
        TrackedJob job = find(id);
        synchronized (job) {
            if (job.terminal()) {
                throw DistilleryException.precondition("job %s has already ended (%s)", id, job.snapshot().getState());
            }
            job.requestCancel();
            if (job.state() == JobState.JOB_STATE_QUEUED) {
                job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
            } else if (job.attempt() != null) {
                job.attempt().stop(Stop.Reason.REASON_CANCELLED);
            }
        }
        return job.snapshot();
    }

    /**
     * A worker claims its job with the token made for this run of it. Its assignment, and any stop
     * already asked for, go to {@code orders}, as will later stops.
     *
     * @throws DistilleryException UNAUTHENTICATED without a token; PERMISSION_DENIED when the job has
     *     no running worker with this token (the same answer for an unknown job, so that a guess learns
     *     nothing); FAILED_PRECONDITION when the job has been claimed already
     */
    public WorkerLink claim(String jobId, String token, Consumer<ControlOrder> orders) {
        if (token == null || token.isEmpty()) {
            throw DistilleryException.unauthenticated("a worker's claim needs the token of its job "
                    + "(distillery.worker.token, env DISTILLERY_WORKER_TOKEN)");
        }
        TrackedJob job = jobId == null ? null : jobs.get(jobId);
        WorkerAttempt attempt = job == null ? null : job.attempt();
        if (attempt == null || !attempt.accepts(token)) {
            throw DistilleryException.permissionDenied("job '%s' has no running worker with this token: a token is "
                    + "good for one run of one job, made by the control process that launched it", jobId);
        }
        synchronized (job) {
            Job record = job.snapshot();
            attempt.claim(orders, Assignment.newBuilder().setRecipe(record.getRecipe())
                    .setResumes(record.getResumes()).build());
        }
        return new WorkerLink(this, job, attempt);
    }

    /** See {@link WorkerLink#report}. */
    boolean report(TrackedJob job, WorkerAttempt attempt, JobEvent event) {
        synchronized (job) {
            if (job.attempt() != attempt) {
                throw DistilleryException.precondition("job %s is no longer run by this worker", job.jobId());
            }
            if (job.terminal()) {
                throw DistilleryException.precondition("job %s has already ended (%s)", job.jobId(), job.state());
            }
            switch (event.getEventCase()) {
                case STAGE -> job.stage(event.getStage().getName(), event.getStage().getMessage());
                case EPOCH -> job.epoch(event.getEpoch());
                case TRIAL -> job.trial(event.getTrial());
                case FAILED -> fail(job, event.getFailed().getMessage());
                case CANCELLED -> job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
                case FINISHED -> { } // below, outside the lock: serving loads the model first
                default -> throw DistilleryException.invalid("a worker reports stage, epoch, trial, finished, failed or "
                        + "cancelled events, not %s", event.getEventCase());
            }
            if (!event.hasFinished()) {
                return job.terminal();
            }
        }
        Finished finished = event.getFinished();
        RuntimeException unservable = null;
        try {
            onFinished.accept(finished);
        } catch (RuntimeException e) {
            LOG.errorf(e, "job %s made %s but it cannot be served", job.jobId(), finished.getModel());
            unservable = e;
        }
        synchronized (job) {
            if (job.terminal()) {
                return true; // its worker died meanwhile, and the job was settled without it
            }
            if (unservable != null) {
                fail(job, message(unservable));
            } else {
                job.transition(JobState.JOB_STATE_SUCCEEDED, JobEvent.newBuilder().setFinished(finished),
                        b -> b.setModel(finished.getModel()));
            }
        }
        return true;
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

    /** One job's turn: launches its worker and waits for it to end. */
    private void run(TrackedJob job) {
        WorkerAttempt attempt;
        synchronized (job) {
            if (job.terminal() || closing) {
                return; // cancelled while queued, or the server is stopping: the record still says queued
            }
            if (job.cancelRequested()) { // resumed after a restart, then cancelled before its worker started
                job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
                return;
            }
            if (job.state() == JobState.JOB_STATE_QUEUED) {
                job.transition(JobState.JOB_STATE_RUNNING, JobEvent.newBuilder().setStage(
                        Stage.newBuilder().setName("started").setMessage("job started")), b -> {});
            } // else running already: resumed after a restart, which recover() has announced
            attempt = WorkerAttempt.create(job.jobId(), settings.stopGrace());
            job.attempt(attempt);
        }
        WorkerHandle worker;
        int exit;
        try {
            worker = launcher.launch(job.snapshot(), attempt.token());
            attempt.launched(worker);
            exit = worker.awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // only at a forced shutdown: the record stays as it was, as after a crash
        } catch (Exception | Error e) {
            LOG.errorf(e, "cannot start a worker for job %s", job.jobId());
            synchronized (job) {
                job.attempt(null);
                fail(job, "cannot start a worker for the job: " + message(e));
            }
            return;
        }
        if (job.cancelRequested()) { // it stopped when asked; nothing of a cancelled run stays (a Kubernetes Job)
            try {
                worker.terminate();
            } catch (RuntimeException e) {
                LOG.warnf(e, "cannot end %s of the cancelled job %s", worker.name(), job.jobId());
            }
        }
        settle(job, attempt, exit);
    }

    /** A worker has ended. Its job has ended too if it reported so; otherwise how it exited decides. */
    private void settle(TrackedJob job, WorkerAttempt attempt, int exit) {
        synchronized (job) {
            job.attempt(null);
            if (job.terminal()) {
                return;
            }
            if (job.cancelRequested()) {
                job.transition(JobState.JOB_STATE_CANCELLED, cancelled(), b -> {});
            } else if (closing) {
                LOG.infof("job %s stopped by the shutdown; it resumes on the next start", job.jobId());
                job.stage("interrupted", "the server is shutting down; the job continues from its last checkpoint "
                        + "when the server starts again");
            } else {
                fail(job, String.format("%s ended with %s before the job ended; a worker ends so when it is killed or "
                        + "crashes (out of memory, a native library); the server's log has its output",
                        attempt.workerName(), WorkerExit.describe(exit)));
            }
        }
    }

    private void fail(TrackedJob job, String message) {
        LOG.errorf("job %s failed: %s", job.jobId(), message);
        job.transition(JobState.JOB_STATE_FAILED, JobEvent.newBuilder().setFailed(Failed.newBuilder().setMessage(message)),
                b -> b.setError(message));
    }

    private static String message(Throwable e) {
        return e instanceof DistilleryException ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
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
        launcher.recover(records.stream().collect(Collectors.toMap(Job::getId, Job::getState, (a, b) -> b)));
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
            running.submit(() -> run(job));
        }
    }

    /**
     * Asks every running worker to stop at its next batch and drops the queue without recording
     * anything: every unfinished job keeps its queued or running record and resumes on the next start.
     * A worker is given the grace period to finish what it writes (a checkpoint, a model) before it is
     * terminated.
     */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        for (TrackedJob job : jobs.values()) {
            synchronized (job) {
                if (job.attempt() != null) {
                    job.attempt().stop(Stop.Reason.REASON_SHUTDOWN);
                }
            }
        }
        running.shutdown(); // the queued jobs' turns come and return at once
        Duration wait = settings.stopGrace().plusSeconds(10);
        if (!running.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            LOG.warnf("the running jobs' workers did not end within %s of the shutdown", wait);
        }
    }
}
