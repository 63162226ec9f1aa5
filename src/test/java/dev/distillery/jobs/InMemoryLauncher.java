package dev.distillery.jobs;

import dev.distillery.error.DistilleryException;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.Stop;
import dev.distillery.v1.Cancelled;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Failed;
import dev.distillery.v1.Finished;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Stage;
import dev.distillery.v1.TrialResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A launcher whose workers are threads of the test's JVM: each claims its job from the job manager
 * with its token, runs a {@link JobRunner} and reports through its {@link WorkerLink}, as a worker
 * process does over the Workers channel, and ends with the exit code a worker process would. It calls the
 * job manager directly, without gRPC, so that the manager's tests can also make a worker crash
 * ({@link Crash}); the real Worker on its threads is {@link InProcessLauncher}.
 */
public final class InMemoryLauncher implements JobLauncher {

    /** Thrown by a runner to end its worker at once with {@code exitCode}, reporting nothing (a crash). */
    public static final class Crash extends RuntimeException {
        final int exitCode;

        public Crash(int exitCode) {
            super("worker crashed");
            this.exitCode = exitCode;
        }
    }

    private final JobRunner runner;
    private JobManager jobs;
    /** Job ids in the order their workers were launched. */
    public final List<String> launched = new CopyOnWriteArrayList<>();

    private InMemoryLauncher(JobRunner runner) {
        this.runner = runner;
    }

    /** A started job manager whose jobs run on {@code runner}, one at a time. */
    public static JobManager manager(Path root, JobRunner runner) {
        return manager(root, runner, new JobManager.Settings(1, Duration.ofSeconds(30)), finished -> {});
    }

    public static JobManager manager(Path root, JobRunner runner, JobManager.Settings settings,
            Consumer<Finished> onFinished) {
        InMemoryLauncher launcher = new InMemoryLauncher(runner);
        launcher.jobs = new JobManager(root, launcher, settings, onFinished);
        return launcher.jobs.start();
    }

    @Override
    public WorkerHandle launch(Job job, String token) {
        launched.add(job.getId());
        return new ThreadWorker("in-memory-worker-" + job.getId()).start(() -> work(job.getId(), token));
    }

    private int work(String jobId, String token) {
        CompletableFuture<Recipe> recipe = new CompletableFuture<>();
        Stop.Reason[] stop = new Stop.Reason[1];
        WorkerLink link = jobs.claim(jobId, token, (ControlOrder order) -> {
            if (order.hasAssignment()) {
                recipe.complete(order.getAssignment().getRecipe());
            } else {
                stop[0] = order.getStop().getReason();
            }
        });
        JobContext context = new JobContext() {
            @Override
            public String jobId() {
                return jobId;
            }

            @Override
            public Path workDirectory() {
                return jobs.root().resolve(jobId);
            }

            @Override
            public void stage(String name, String message) {
                link.report(JobEvent.newBuilder().setStage(Stage.newBuilder().setName(name).setMessage(message)).build());
            }

            @Override
            public void epoch(EpochProgress progress) {
                link.report(JobEvent.newBuilder().setEpoch(progress).build());
            }

            @Override
            public void trial(TrialResult result) {
                link.report(JobEvent.newBuilder().setTrial(result).build());
            }

            @Override
            public boolean cancelled() {
                return stop[0] != null;
            }
        };
        try {
            Finished finished = runner.run(recipe.join(), context);
            link.report(JobEvent.newBuilder().setFinished(finished).build());
            return WorkerExit.SUCCEEDED.code();
        } catch (Crash crash) {
            return crash.exitCode;
        } catch (Exception | Error e) {
            if (stop[0] == Stop.Reason.REASON_CANCELLED) {
                link.report(JobEvent.newBuilder().setCancelled(Cancelled.getDefaultInstance()).build());
                return WorkerExit.CANCELLED.code();
            }
            if (stop[0] == Stop.Reason.REASON_SHUTDOWN) {
                return WorkerExit.STOPPED.code();
            }
            String message = e instanceof DistilleryException ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
            link.report(JobEvent.newBuilder().setFailed(Failed.newBuilder().setMessage(message)).build());
            return WorkerExit.FAILED.code();
        } finally {
            link.detach();
        }
    }
}
