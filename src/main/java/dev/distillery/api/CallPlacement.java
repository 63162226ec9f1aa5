package dev.distillery.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Predicate;

/**
 * Where a unary inference call runs. A call to a model whose calls have proven cheap runs on the thread that
 * received it, the gRPC event loop, as a bare grpc-java server with a direct executor runs it: handing it to a
 * worker thread and back costs more than the reference student's whole ONNX Runtime call. Every other call
 * (encoded images to decode, a model not yet measured or slow, such as a teacher) runs on a worker thread, so
 * it never holds up the other calls that share the event loop.
 *
 * <p>Each model's call time is followed as an exponentially weighted mean, {@code mean += (t - mean) / 8},
 * measured around the whole call wherever it ran (a call that waits in a dynamic batch counts its wait). A
 * model runs inline while its mean is under the limit; a model whose calls slow down (a new version, a
 * queue) moves back to the workers after a few calls. A limit of 0 sends every call to the workers. A model
 * whose dynamic batcher holds requests for others to join never runs inline: the event loop would wait for a
 * batch while keeping out the very calls that could join it.
 */
public final class CallPlacement {

    /** Followed models, at most: a bound against calls that name models which do not exist. */
    private static final int MAX_FOLLOWED = 1024;

    private final long limitNanos;
    private final Executor workers;
    private final Predicate<String> inlineModel;
    private final Map<String, Long> meanNanos = new ConcurrentHashMap<>();

    /**
     * @param limitNanos a model's mean call time under which its calls run inline; 0 sends all to {@code workers}
     * @param workers where the other calls run
     * @param inlineModel whether calls to a model (by name) may run inline at all
     */
    public CallPlacement(long limitNanos, Executor workers, Predicate<String> inlineModel) {
        this.limitNanos = limitNanos;
        this.workers = workers;
        this.inlineModel = inlineModel;
    }

    /**
     * Runs {@code call} here when the model's calls are cheap and {@code inlineAllowed}, else on a worker.
     *
     * @param model the model's name as the request gives it
     * @param version the version as the request gives it; with the name, the key call times are kept under
     * @param inlineAllowed false for work whose cost the model's history does not bound (encoded images)
     * @param call answers the call itself, errors included; never throws
     */
    void run(String model, String version, boolean inlineAllowed, Runnable call) {
        run(model + ":" + version, inlineAllowed && inlineModel.test(model), call);
    }

    private void run(String model, boolean inlineAllowed, Runnable call) {
        if (inlineAllowed && runsInline(model)) {
            timed(model, call);
            return;
        }
        try {
            workers.execute(() -> timed(model, call));
        } catch (RejectedExecutionException e) {
            // The worker pool is shutting down: answer here rather than drop the call.
            timed(model, call);
        }
    }

    /** True while {@code model}'s mean call time is under the limit. */
    boolean runsInline(String model) {
        Long mean = meanNanos.get(model);
        return mean != null && mean < limitNanos;
    }

    private void timed(String model, Runnable call) {
        long start = System.nanoTime();
        call.run();
        record(model, System.nanoTime() - start);
    }

    void record(String model, long nanos) {
        if (meanNanos.size() >= MAX_FOLLOWED && !meanNanos.containsKey(model)) {
            meanNanos.clear();
        }
        meanNanos.merge(model, nanos, (mean, latest) -> mean + (latest - mean) / 8);
    }
}
