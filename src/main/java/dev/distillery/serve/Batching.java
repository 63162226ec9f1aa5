package dev.distillery.serve;

import java.util.List;

/**
 * How the requests of one model version are batched, as Triton's dynamic batcher does it
 * ({@code dynamic_batching} in a model's config.pbtxt).
 *
 * @param enabled false runs every request on its caller's thread, alone
 * @param preferredBatchSizes batch sizes (rows) run as soon as the queue can form one, ascending;
 *     empty means {@code maxBatchSize} alone (Triton's default)
 * @param maxBatchSize most rows in one run; a single request with more rows still runs, alone
 * @param maxQueueDelayMicroseconds how long the oldest queued request may wait for others to join
 *     it; 0 never waits, but requests already queued still run together
 * @param maxQueueSize most rows waiting in the queue; a request that would pass it is refused with
 *     RESOURCE_EXHAUSTED, unless the queue is empty (so any request within the per-request limit can run)
 */
public record Batching(boolean enabled, List<Integer> preferredBatchSizes, int maxBatchSize,
        long maxQueueDelayMicroseconds, int maxQueueSize) {

    /** No batching: what tools that only run models (training, evaluation, tests) get. */
    public static final Batching OFF = new Batching(false, List.of(), 1, 0, 1);

    /**
     * @throws IllegalArgumentException naming the setting (relative to {@code batching.}) when a value is
     *     out of range
     */
    public Batching {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("batching.max-batch-size must be at least 1, got " + maxBatchSize);
        }
        preferredBatchSizes = preferredBatchSizes.stream().sorted().distinct().toList();
        for (int size : preferredBatchSizes) {
            if (size < 1 || size > maxBatchSize) {
                throw new IllegalArgumentException(String.format(
                        "batching.preferred-batch-sizes must lie between 1 and max-batch-size (%d), got %s",
                        maxBatchSize, preferredBatchSizes));
            }
        }
        if (maxQueueDelayMicroseconds < 0) {
            throw new IllegalArgumentException("batching.max-queue-delay-microseconds must be >= 0 (0 = no waiting), got "
                    + maxQueueDelayMicroseconds);
        }
        if (maxQueueSize < 1) {
            throw new IllegalArgumentException("batching.max-queue-size must be at least 1 (rows), got " + maxQueueSize);
        }
    }

    /** The largest preferred size, which a batch grows to before it runs. */
    public int maxPreferredBatchSize() {
        return preferredBatchSizes.isEmpty() ? maxBatchSize : preferredBatchSizes.get(preferredBatchSizes.size() - 1);
    }

    /** True when a request may be held in the queue for others to join it (a queue delay). */
    public boolean waits() {
        return enabled && maxQueueDelayMicroseconds > 0;
    }

    boolean preferred(int rows) {
        return preferredBatchSizes.isEmpty() ? rows == maxBatchSize : preferredBatchSizes.contains(rows);
    }
}
