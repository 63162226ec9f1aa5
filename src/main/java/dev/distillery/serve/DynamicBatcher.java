package dev.distillery.serve;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelRef;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One model version's dynamic batcher: callers queue their rows and wait; one dispatcher thread takes
 * batches from the queue as {@link BatchPlan} says, runs each as one ONNX Runtime call and hands every
 * caller exactly its own rows of the result. A request is never split: its N rows sit next to each
 * other in the batch, and its logits are rows {@code offset .. offset + N} of the run's.
 *
 * <p>One run at a time, as Triton with one model instance: requests that arrive during a run wait
 * and form the next batch. A request that finds the model idle and the queue empty, and that the plan
 * would run alone at once (delay 0, or a preferred size by itself), runs on its caller's thread: no
 * hand-over to the dispatcher and back, which costs more than a small model's run.
 *
 * <p>The dispatcher sleeps on a condition while the queue is empty, while a run is in flight or while
 * a batch waits for its delay; an arriving request or a finished run wakes it. {@link #close} refuses
 * new requests, runs what is queued without waiting for any delay, and returns when the dispatcher has
 * stopped.
 */
final class DynamicBatcher implements AutoCloseable {

    /** Runs one batch of {@code rows} inputs (NCHW, from position 0) and returns their logits, row-major. */
    interface Run {
        float[] logits(FloatBuffer input, int rows);
    }

    private static final class Request {
        final FloatBuffer input;
        final int rows;
        final long enqueued;
        final CompletableFuture<float[]> result = new CompletableFuture<>();

        Request(FloatBuffer input, int rows, long enqueued) {
            this.input = input;
            this.rows = rows;
            this.enqueued = enqueued;
        }
    }

    private final ModelRef ref;
    private final Batching settings;
    private final BatchPlan plan;
    private final int rowSize;
    private final int classes;
    private final Run run;
    private final ModelMetrics metrics;
    private final Supplier<DistilleryException> gone;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final Thread dispatcher;
    private int queuedRows;
    /** A batch, or a request on its caller's thread, is running. */
    private boolean running;
    private boolean closed;
    /** The dispatcher's input buffer for batches of several requests, made on first use. */
    private FloatBuffer batchInput;

    /**
     * @param rowSize floats in one input row
     * @param classes logits in one output row
     * @param gone what a request gets once the batcher is closed
     */
    DynamicBatcher(ModelRef ref, Batching settings, int rowSize, int classes, Run run, ModelMetrics metrics,
            Supplier<DistilleryException> gone) {
        this.ref = ref;
        this.settings = settings;
        this.plan = new BatchPlan(settings);
        this.rowSize = rowSize;
        this.classes = classes;
        this.run = run;
        this.metrics = metrics;
        this.gone = gone;
        this.dispatcher = new Thread(this::dispatch, "batcher " + ref.getName() + "/" + ref.getVersion());
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    /**
     * Queues {@code rows} inputs, waits for the batch they join to run and returns their logits.
     *
     * @param input exactly {@code rows * rowSize} floats from position 0; not touched by the caller until this returns
     * @throws DistilleryException RESOURCE_EXHAUSTED when the queue is full, or {@code gone} once closed;
     *     whatever the run threw
     */
    float[] logits(FloatBuffer input, int rows) {
        long arrived = System.nanoTime();
        Request request = null;
        lock.lock();
        try {
            if (closed) {
                throw gone.get();
            }
            if (!running && queue.isEmpty() && plan.runsAlone(rows)) {
                running = true;
            } else {
                request = new Request(input, rows, arrived);
                enqueue(request);
            }
        } finally {
            lock.unlock();
        }
        return request == null ? runHere(input, rows) : await(request);
    }

    private void enqueue(Request request) {
        int rows = request.rows;
        if (queuedRows > 0 && queuedRows + rows > settings.maxQueueSize()) {
            throw new DistilleryException(DistilleryException.Kind.RESOURCE_EXHAUSTED, String.format(
                    "model %s/%d is busy: %d rows wait in its queue and this request adds %d, over the limit of %d "
                            + "(distillery.serving.models.\"%s\".batching.max-queue-size); retry later",
                    ref.getName(), ref.getVersion(), queuedRows, rows, settings.maxQueueSize(), ref.getName()));
        }
        queue.add(request);
        queuedRows += rows;
        work.signal();
    }

    /** Runs a request that needs no batch on the caller's thread, then lets the dispatcher have what queued meanwhile. */
    private float[] runHere(FloatBuffer input, int rows) {
        try {
            metrics.queued(0);
            return run.logits(input, rows);
        } finally {
            lock.lock();
            try {
                running = false;
                work.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Rows waiting in the queue now. */
    int queuedRows() {
        lock.lock();
        try {
            return queuedRows;
        } finally {
            lock.unlock();
        }
    }

    private static float[] await(Request request) {
        try {
            return request.result.join();
        } catch (CompletionException e) {
            // The run's own exception, with its status, reaches the caller.
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error cause) {
                throw cause;
            }
            throw e;
        }
    }

    private void dispatch() {
        List<Request> batch = new ArrayList<>();
        try {
            while (next(batch)) {
                run(batch);
                batch.clear();
                lock.lock();
                try {
                    running = false;
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            stopped();
        }
    }

    /**
     * Waits for the model to be free and the next batch to be due, then moves the batch out of the queue
     * into {@code batch} and marks the model running; false once closed and empty.
     */
    private boolean next(List<Request> batch) {
        lock.lock();
        try {
            while (true) {
                if (queue.isEmpty() && closed) {
                    return false;
                }
                if (queue.isEmpty() || running) {
                    work.awaitUninterruptibly();
                    continue;
                }
                long age = System.nanoTime() - queue.peek().enqueued;
                int take = plan.take(queue, request -> request.rows, age, closed);
                if (take > 0) {
                    for (int i = 0; i < take; i++) {
                        Request request = queue.poll();
                        queuedRows -= request.rows;
                        batch.add(request);
                    }
                    running = true;
                    return true;
                }
                try {
                    work.awaitNanos(plan.waitNanos(age));
                } catch (InterruptedException e) {
                    // Nothing interrupts the dispatcher on purpose; the loop plans again.
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void run(List<Request> batch) {
        long start = System.nanoTime();
        int rows = 0;
        for (Request request : batch) {
            metrics.queued(start - request.enqueued);
            rows += request.rows;
        }
        try {
            if (batch.size() == 1) {
                // Alone: its own buffer is already the run's input.
                Request only = batch.get(0);
                only.result.complete(run.logits(only.input, only.rows));
                return;
            }
            FloatBuffer input = batchInput(rows);
            for (Request request : batch) {
                input.put(request.input.rewind());
            }
            float[] logits = run.logits(input.flip(), rows);
            int offset = 0;
            for (Request request : batch) {
                int length = request.rows * classes;
                request.result.complete(Arrays.copyOfRange(logits, offset, offset + length));
                offset += length;
            }
        } catch (RuntimeException | Error e) {
            batch.forEach(request -> request.result.completeExceptionally(e));
        }
    }

    /** A batch of several requests never passes the maximum batch size, so one buffer of that size serves all. */
    private FloatBuffer batchInput(int rows) {
        if (batchInput == null) {
            batchInput = LoadedModel.directFloats(Math.max(rows, settings.maxBatchSize()) * rowSize);
        }
        return batchInput.clear();
    }

    /** Whatever is still queued when the dispatcher stops (only if it failed) gets an answer rather than a hang. */
    private void stopped() {
        lock.lock();
        try {
            closed = true;
            IllegalStateException stop = new IllegalStateException(
                    "the dynamic batcher of model " + ref.getName() + "/" + ref.getVersion() + " stopped");
            queue.forEach(request -> request.result.completeExceptionally(stop));
            queue.clear();
            queuedRows = 0;
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new requests, runs those already queued, and returns once they have their answers. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (dispatcher.isAlive()) {
            try {
                dispatcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
