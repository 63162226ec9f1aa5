package dev.distillery.jobs;

/** A worker a {@link JobLauncher} started: a child process, or a pod. */
public interface WorkerHandle {

    /** What a person would look for, e.g. "worker process 4711". */
    String name();

    boolean alive();

    /**
     * Ends the worker at once, without waiting for its next batch. The graceful way is a stop through
     * the worker's channel; the job manager calls this when a worker has not stopped in time, and once a
     * cancelled job's worker has ended, so that nothing of the run is left (a Kubernetes Job is deleted).
     * Ending a worker that has already ended does nothing.
     */
    void terminate();

    /** Waits until the worker has ended and returns its exit code (see {@link WorkerExit}). */
    int awaitExit() throws InterruptedException;
}
