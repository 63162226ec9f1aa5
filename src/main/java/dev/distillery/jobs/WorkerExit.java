package dev.distillery.jobs;

import java.util.Arrays;
import java.util.Map;

/**
 * How a worker ended, as its exit code says. A worker that reported its job's end (succeeded, failed,
 * cancelled) exits with that code; the other codes say why it did not. An exit code above 128 is a
 * signal, 128 + its number, as the shell reports it (137: SIGKILL). A launcher that learns more than an
 * exit code (a Kubernetes Job's deadline) reports it with the codes no worker exits with.
 */
public enum WorkerExit {
    /** The job finished and its finished event was acknowledged by control. */
    SUCCEEDED(0, "succeeded"),
    /** The job failed; its failed event says why. */
    FAILED(1, "the job failed"),
    /** The worker's settings (distillery.worker.*) are missing or wrong. */
    USAGE(2, "the worker's settings (distillery.worker.job, .control, .token) are missing or wrong"),
    /** CancelJob stopped the job. */
    CANCELLED(3, "cancelled"),
    /** Control asked it to stop because control is shutting down: the job resumes from its checkpoint. */
    STOPPED(4, "stopped for control's shutdown"),
    /** The channel to control broke: the job stays as control last recorded it. */
    CONTROL_LOST(5, "lost its channel to control"),
    /** Control refused its claim: a token of another run, or a job that is not running. */
    REFUSED(6, "control refused its claim"),
    /** Set by a launcher, not by a worker: the worker's Kubernetes Job ran past its activeDeadlineSeconds. */
    DEADLINE_EXCEEDED(7, "ran past its Job's deadline (activeDeadlineSeconds) and was stopped"),
    /** Set by a launcher, not by a worker: its Kubernetes Job failed before a worker container ran. */
    NOT_STARTED(8, "never started: its pod was not scheduled or its container could not start");

    private static final Map<Integer, String> SIGNALS = Map.of(
            1, "SIGHUP", 2, "SIGINT", 6, "SIGABRT", 9, "SIGKILL", 11, "SIGSEGV", 15, "SIGTERM");

    private final int code;
    private final String meaning;

    WorkerExit(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    /** E.g. "exit code 137 (killed by signal 9, SIGKILL)", "exit code 5 (lost its channel to control)". */
    public static String describe(int code) {
        if (code > 128 && code < 160) {
            int signal = code - 128;
            return String.format("exit code %d (killed by signal %d%s)", code, signal,
                    SIGNALS.containsKey(signal) ? ", " + SIGNALS.get(signal) : "");
        }
        return Arrays.stream(values()).filter(exit -> exit.code == code).findFirst()
                .map(exit -> String.format("exit code %d (%s)", code, exit.meaning))
                .orElse("exit code " + code);
    }
}
