package dev.distillery.jobs;

import dev.distillery.v1.Job;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Runs each job on a thread of this JVM, as before workers existed: for debugging, and as the benchmark's
 * peer of {@link ProcessLauncher}. The thread runs the real {@link Worker}: it claims its job with its token
 * over a gRPC channel to this process's own {@code Workers} service and reports every event there, so a
 * client sees the same {@code Train}, {@code GetJob}, {@code WatchJob} and {@code CancelJob} whichever
 * launcher ran the job. Only the process boundary is missing: training shares the server's cores and
 * threads, and a libtorch crash ends the server.
 *
 * <p>A thread cannot be killed: a worker that has not stopped within the grace period is settled as killed
 * ({@link ThreadWorker#terminate}) and its thread is interrupted; it stops at its next batch. Where the
 * worker process would halt (it lost control and did not stop in time), the thread's worker ends the same
 * way, with the code the process would have exited with.
 */
public final class InProcessLauncher implements JobLauncher {

    private final Supplier<? extends JobRunner> runner;
    private final Path jobsRoot;
    private final Duration grace;
    private final Supplier<ManagedChannel> control;

    /**
     * @param runner what runs a job, asked at each launch (the training engine is made when first needed)
     * @param grace the worker's {@code distillery.worker.grace}
     * @param control a new channel to this process's gRPC port; each worker shuts its own down when it ends
     */
    public InProcessLauncher(Supplier<? extends JobRunner> runner, Path jobsRoot, Duration grace,
            Supplier<ManagedChannel> control) {
        this.runner = runner;
        this.jobsRoot = jobsRoot;
        this.grace = grace;
        this.control = control;
    }

    /**
     * Refuses to start with more than one running job: libtorch allows one training per JVM.
     *
     * @throws IllegalArgumentException naming the setting and what to set instead
     */
    public static void requireOneAtATime(int maxRunning) {
        if (maxRunning != 1) {
            throw new IllegalArgumentException("distillery.jobs.max-running (DISTILLERY_MAX_RUNNING_JOBS) is " + maxRunning
                    + ", but the in-process launcher runs one job at a time, as libtorch allows one training per JVM: "
                    + "set it to 1, or run jobs in worker processes with distillery.jobs.launcher=process");
        }
    }

    @Override
    public WorkerHandle launch(Job job, String token) {
        ThreadWorker thread = new ThreadWorker("distillery-worker-" + job.getId());
        Worker worker = new Worker(runner.get(), jobsRoot, grace, thread::end);
        ManagedChannel channel = control.get();
        return thread.start(() -> {
            try {
                return worker.run(channel, job.getId(), token).code();
            } finally {
                channel.shutdownNow();
            }
        });
    }
}
