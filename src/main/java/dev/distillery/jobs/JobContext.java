package dev.distillery.jobs;

import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.TrialResult;
import java.nio.file.Path;

/** What a running job can tell its watchers, and ask. */
public interface JobContext {

    String jobId();

    /**
     * A folder that belongs to this job alone and survives a server restart until the job ends: where a
     * run keeps its checkpoints. It may not exist yet; the job manager deletes it once the job has ended.
     */
    Path workDirectory();

    /** A step before or after the epochs: loading data, teacher logits, exporting. */
    void stage(String name, String message);

    void epoch(EpochProgress progress);

    /**
     * A setting of a sweep has finished, or (reported again with {@code chosen} set) was kept. The
     * job's record holds one entry per setting: a report replaces an earlier one of the same
     * temperature and alpha.
     */
    void trial(TrialResult result);

    /**
     * True once CancelJob was called, the server is shutting down, or the worker has lost its channel to
     * control; the job should stop at its next batch by throwing
     * {@link java.util.concurrent.CancellationException}. After a shutdown the job runs again on the next
     * start, with the same {@link #workDirectory()}.
     */
    boolean cancelled();
}
