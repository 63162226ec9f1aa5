package dev.distillery.serve;

import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Which queued requests run next, as Triton's dynamic batcher chooses them
 * ({@code DynamicBatchScheduler::GetDynamicBatch}). Requests join a batch oldest first and are never
 * split; walking the queue, the batch is the longest run of requests that
 *
 * <ul>
 *   <li>reaches a preferred size: run it now, unless the oldest request has waited the maximum delay;
 *   <li>cannot grow without passing the largest preferred size: run it now;
 *   <li>cannot grow without passing the maximum batch size: run it now;
 *   <li>otherwise: run all of it when the delay is 0 or exceeded (or the batcher is draining),
 *       else wait {@code delay - age(oldest)} for more requests.
 * </ul>
 *
 * A first request larger than the maximum batch size runs alone. Pure: the caller holds the queue's lock.
 */
final class BatchPlan {

    private final Batching settings;
    private final long delayNanos;

    BatchPlan(Batching settings) {
        this.settings = settings;
        this.delayNanos = settings.maxQueueDelayMicroseconds() * 1000;
    }

    /**
     * How many requests, from the head of {@code queue}, to run now; 0 means wait
     * ({@link #waitNanos} says how long).
     *
     * @param rows the rows of a queued request
     * @param oldestAgeNanos how long the head of the queue has waited
     * @param drain true when the batcher is closing: nothing more will come, run what there is
     */
    <T> int take(Iterable<T> queue, ToIntFunction<T> rows, long oldestAgeNanos, boolean drain) {
        int maxPreferred = settings.maxPreferredBatchSize();
        int pending = 0;
        int count = 0;
        int best = 0;
        boolean full = false;
        for (T request : queue) {
            int size = rows.applyAsInt(request);
            if (count > 0) {
                if (pending + size > maxPreferred && best == 0) {
                    best = count;
                }
                if (pending + size > settings.maxBatchSize()) {
                    full = true;
                    break;
                }
            }
            pending += size;
            count++;
            if (settings.preferred(pending)) {
                best = count;
            }
        }
        boolean delayExceeded = drain || delayNanos > 0 && oldestAgeNanos >= delayNanos;
        if (best > 0 && !delayExceeded) {
            return best;
        }
        if (full || pending >= maxPreferred || delayExceeded || delayNanos == 0) {
            return count;
        }
        return 0;
    }

    /** True when a request of {@code rows}, alone in the queue and just arrived, would run at once. */
    boolean runsAlone(int rows) {
        return take(List.of(rows), Integer::intValue, 0, false) == 1;
    }

    /** How long to wait for more requests when {@link #take} said 0. */
    long waitNanos(long oldestAgeNanos) {
        return delayNanos - oldestAgeNanos;
    }
}
