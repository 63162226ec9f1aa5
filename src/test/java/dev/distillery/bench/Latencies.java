package dev.distillery.bench;

import java.util.Arrays;

/**
 * Call latencies of one measured interval, kept exactly (a closed loop on two cores makes a few hundred
 * thousand calls at most) so that percentiles are the nearest-rank values, not a histogram's buckets.
 * Not thread-safe: one recorder per thread, joined with {@link #add}.
 */
final class Latencies {

    private long[] nanos = new long[1 << 14];
    private int count;

    void record(long latencyNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        nanos[count++] = latencyNanos;
    }

    void add(Latencies other) {
        for (int i = 0; i < other.count; i++) {
            record(other.nanos[i]);
        }
    }

    int count() {
        return count;
    }

    /**
     * The nearest-rank percentile: the smallest latency that at least {@code percent} % of the calls did not
     * exceed, in milliseconds.
     */
    double percentileMillis(double percent) {
        if (count == 0) {
            throw new IllegalStateException("no calls were recorded");
        }
        if (percent <= 0 || percent > 100) {
            throw new IllegalArgumentException("percent must be in (0, 100], got " + percent);
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(percent / 100 * count);
        return sorted[rank - 1] / 1e6;
    }
}
