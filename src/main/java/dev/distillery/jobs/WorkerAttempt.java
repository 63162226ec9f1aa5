package dev.distillery.jobs;

import dev.distillery.error.DistilleryException;
import dev.distillery.internal.v1.Assignment;
import dev.distillery.internal.v1.ControlOrder;
import dev.distillery.internal.v1.Stop;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * One run of a job by one worker: the token made for it, the worker's handle once launched, and the
 * channel for its orders once it has claimed the job. A stop asked for before the worker claims is
 * delivered with the claim; a worker that has not ended {@code grace} after a stop is terminated.
 */
final class WorkerAttempt {

    private static final Logger LOG = Logger.getLogger(WorkerAttempt.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String jobId;
    private final byte[] token;
    private final Duration grace;
    private WorkerHandle handle;
    private Consumer<ControlOrder> orders;
    private Stop.Reason stop;

    private WorkerAttempt(String jobId, byte[] token, Duration grace) {
        this.jobId = jobId;
        this.token = token;
        this.grace = grace;
    }

    /** A new attempt with a fresh token: 32 random bytes, URL-safe base64. */
    static WorkerAttempt create(String jobId, Duration grace) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return new WorkerAttempt(jobId, Base64.getUrlEncoder().withoutPadding().encode(bytes), grace);
    }

    String token() {
        return new String(token, StandardCharsets.US_ASCII);
    }

    /** Compares in constant time, so the answer's timing says nothing about how much of a guess was right. */
    boolean accepts(String offered) {
        return MessageDigest.isEqual(token, offered.getBytes(StandardCharsets.UTF_8));
    }

    synchronized void launched(WorkerHandle worker) {
        handle = worker;
        if (stop != null) {
            terminateAfterGrace();
        }
    }

    synchronized String workerName() {
        return handle == null ? "the worker" : handle.name();
    }

    /** The worker claims the job: it gets its assignment, then any stop already asked for. */
    synchronized void claim(Consumer<ControlOrder> channel, Assignment assignment) {
        if (orders != null) {
            throw DistilleryException.precondition("job %s has already been claimed by its worker", jobId);
        }
        orders = channel;
        channel.accept(ControlOrder.newBuilder().setAssignment(assignment).build());
        if (stop != null) {
            channel.accept(order(stop));
        }
    }

    /** The worker's channel has ended; later orders are not sent. */
    synchronized void detached() {
        orders = null;
    }

    /** Asks the worker to stop at its next batch, and terminates it if it has not ended {@code grace} later. */
    synchronized void stop(Stop.Reason reason) {
        if (stop != null) {
            return;
        }
        stop = reason;
        if (orders != null) {
            orders.accept(order(reason));
        }
        if (handle != null) {
            terminateAfterGrace();
        }
    }

    private void terminateAfterGrace() {
        WorkerHandle worker = handle;
        CompletableFuture.runAsync(() -> {
            if (worker.alive()) {
                LOG.warnf("%s of job %s did not stop within %s of being asked to; ending it", worker.name(), jobId, grace);
                worker.terminate();
            }
        }, CompletableFuture.delayedExecutor(grace.toMillis(), TimeUnit.MILLISECONDS));
    }

    private static ControlOrder order(Stop.Reason reason) {
        return ControlOrder.newBuilder().setStop(Stop.newBuilder().setReason(reason)).build();
    }
}
