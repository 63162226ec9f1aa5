package dev.distillery.jobs;

import dev.distillery.v1.EpochProgress;

/** What a running job can tell its watchers, and ask. */
public interface JobContext {

    String jobId();

    /** A step before or after the epochs: loading data, teacher logits, exporting. */
    void stage(String name, String message);

    void epoch(EpochProgress progress);

    /** True once CancelJob was called; the job should stop at its next batch. */
    boolean cancelled();
}
