package dev.distillery.jobs;

import dev.distillery.v1.Job;
import dev.distillery.v1.JobState;
import java.util.Map;

/**
 * Starts the worker that runs one job: a child process ({@link ProcessLauncher}) or, on a cluster, a
 * pod. The worker claims its job from control over the {@code distillery.internal.v1.Workers} channel
 * with {@code token}, reports the job's events there and exits. The launcher only starts and ends
 * workers: the {@link JobManager} keeps the queue, the records and the order, and decides what a
 * worker's end means for its job.
 */
@FunctionalInterface
public interface JobLauncher {

    /**
     * Starts a worker for {@code job}, with the token it must show to claim it, and returns at once.
     *
     * @throws Exception when no worker could be started; the job fails with the message
     */
    WorkerHandle launch(Job job, String token) throws Exception;

    /**
     * Called once when control starts, before any worker is launched, with the state of every job record:
     * a launcher whose workers outlive control (a cluster's Jobs) ends those an earlier control left. A
     * child process ends with its control, so the process launcher has nothing to do.
     *
     * @param recorded each recorded job's state, by job id; a job not in it is unknown
     */
    default void recover(Map<String, JobState> recorded) {
    }
}
