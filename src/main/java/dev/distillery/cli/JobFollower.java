package dev.distillery.cli;

import dev.distillery.client.ProgressLines;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.JobEvent;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Prints a job's events, one line each as they arrive, until the job ends. Ctrl-C detaches: only this
 * client's stream is cancelled, the job goes on running on the server, and the last line says how to
 * follow it again. The exit code says how it ended: 0 succeeded, 1 failed or cancelled, 130 detached.
 */
final class JobFollower {

    static final int SUCCEEDED = 0;
    /** 128 + SIGINT, what a shell reports for a process stopped by Ctrl-C. */
    static final int DETACHED = 130;

    private final PrintWriter out;
    private final PrintWriter err;
    private final Interrupts interrupts;

    JobFollower(PrintWriter out, PrintWriter err, Interrupts interrupts) {
        this.out = out;
        this.err = err;
        this.interrupts = interrupts;
    }

    /**
     * Follows the stream {@code open} starts. With {@code untilSubmitted}, stops at the first event that
     * names the job (it is queued) and leaves it running, as a detach would.
     */
    int follow(Supplier<Iterator<JobEvent>> open, boolean untilSubmitted) {
        Context.CancellableContext stream = Context.current().withCancellation();
        AtomicBoolean interrupted = new AtomicBoolean();
        String jobId = "";
        try (Interrupts.Registration registration = interrupts.onInterrupt(() -> {
            interrupted.set(true);
            stream.cancel(null);
        })) {
            try {
                Iterator<JobEvent> events = inside(stream, open);
                while (events.hasNext()) {
                    JobEvent event = events.next();
                    if (!event.getJobId().isEmpty()) {
                        jobId = event.getJobId();
                    }
                    switch (event.getEventCase()) {
                        case FINISHED -> {
                            print(out, ProgressLines.of(event));
                            return SUCCEEDED;
                        }
                        case FAILED, CANCELLED -> {
                            print(err, "error: " + ProgressLines.of(event));
                            return ErrorReport.FAILURE;
                        }
                        default -> print(out, ProgressLines.of(event));
                    }
                    if (untilSubmitted && !jobId.isEmpty()) {
                        print(out, "job " + jobId + " goes on running on the server; follow it with: distillery watch "
                                + jobId);
                        return SUCCEEDED;
                    }
                }
                throw DistilleryException.precondition("the server ended the stream before job %s ended; "
                        + "follow it again with: distillery watch %s", jobId, jobId);
            } catch (StatusRuntimeException e) {
                if (!interrupted.get()) {
                    throw e;
                }
                print(out, jobId.isEmpty()
                        ? "detached before the server named the job; if it was queued, distillery jobs lists it"
                        : "detached from job " + jobId + ": it goes on running on the server; follow it again with: "
                                + "distillery watch " + jobId);
                return DETACHED;
            }
        } finally {
            // Ends this client's stream when it stops before the job does; the job is not touched.
            stream.cancel(null);
        }
    }

    /** Starts the call with {@code context} current, so that cancelling the context cancels the call. */
    private static Iterator<JobEvent> inside(Context context, Supplier<Iterator<JobEvent>> open) {
        Context previous = context.attach();
        try {
            return open.get();
        } finally {
            context.detach(previous);
        }
    }

    private static void print(PrintWriter to, String line) {
        if (!line.isEmpty()) {
            to.println(line);
            to.flush();
        }
    }
}
