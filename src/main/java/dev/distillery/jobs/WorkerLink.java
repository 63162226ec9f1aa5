package dev.distillery.jobs;

import dev.distillery.v1.JobEvent;

/**
 * A worker's claim on its job, held by control for as long as the worker's channel is open: the
 * events it reports go into the job's record and to its watchers through here.
 */
public final class WorkerLink {

    private final JobManager manager;
    private final TrackedJob job;
    private final WorkerAttempt attempt;

    WorkerLink(JobManager manager, TrackedJob job, WorkerAttempt attempt) {
        this.manager = manager;
        this.job = job;
        this.attempt = attempt;
    }

    public String jobId() {
        return job.jobId();
    }

    /**
     * Records one event of the worker's: a stage, an epoch or a trial, or the job's end (finished,
     * failed or cancelled).
     *
     * @return true when the event ended the job: the worker has nothing more to report
     * @throws dev.distillery.error.DistilleryException INVALID_ARGUMENT for another kind of event,
     *     FAILED_PRECONDITION once the job has ended or another run of it has started
     */
    public boolean report(JobEvent event) {
        return manager.report(job, attempt, event);
    }

    /** The worker's channel has closed. What that means for the job follows from how the worker exits. */
    public void detach() {
        attempt.detached();
    }
}
