package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The batch Triton's dynamic batcher would form, for queues given as the rows of each request, oldest first. */
class BatchPlanTest {

    private static final long MS = 1_000_000;

    private static int take(Batching settings, List<Integer> queue, long oldestAgeNanos) {
        return new BatchPlan(settings).take(queue, Integer::intValue, oldestAgeNanos, false);
    }

    private static Batching batching(List<Integer> preferred, int maxBatch, long delayMicros) {
        return new Batching(true, preferred, maxBatch, delayMicros, 1000);
    }

    @Test
    void withoutDelayEverythingQueuedRunsTogetherUpToTheMaximum() {
        Batching settings = batching(List.of(), 8, 0);
        assertEquals(1, take(settings, List.of(1), 0), "alone, at once");
        assertEquals(3, take(settings, List.of(1, 2, 1), 0), "4 rows in 3 requests");
        assertEquals(2, take(settings, List.of(4, 4, 1), 0), "the third would pass 8 rows");
        assertEquals(1, take(settings, List.of(5, 4), 0), "requests are never split");
    }

    @Test
    void theLargestPreferredSizeTheQueueCanFormRunsFirst() {
        // Triton's documented case: preferred 4 and 8, seven requests queued: a batch of 4, then the other 3.
        Batching settings = batching(List.of(4, 8), 16, 0);
        assertEquals(4, take(settings, List.of(1, 1, 1, 1, 1, 1, 1), 0));
        assertEquals(3, take(settings, List.of(1, 1, 1), 0));
        assertEquals(8, take(settings, List.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 0));
        assertEquals(2, take(settings, List.of(2, 2, 3), 0), "4 rows is preferred; 7 is not");
    }

    @Test
    void aDelayWaitsForAPreferredSizeUntilTheOldestRequestHasWaitedItOut() {
        Batching settings = batching(List.of(4), 8, 5_000);
        BatchPlan plan = new BatchPlan(settings);
        assertEquals(0, take(settings, List.of(1, 1, 1), 1 * MS), "3 rows wait for a fourth");
        assertEquals(4 * MS, plan.waitNanos(1 * MS), "for what is left of the 5 ms");
        assertEquals(4, take(settings, List.of(1, 1, 1, 1), 1 * MS), "the fourth completes a preferred batch");
        assertEquals(4, take(settings, List.of(1, 1, 1, 1, 1), 1 * MS), "the fifth waits for the next batch");
        assertEquals(3, take(settings, List.of(1, 1, 1), 5 * MS), "the delay is over: what there is runs");
        assertEquals(5, take(settings, List.of(1, 1, 1, 1, 1), 6 * MS), "past the delay, up to the maximum batch");
        assertEquals(2, take(settings, List.of(2, 2), 1 * MS), "4 rows in two requests");
    }

    @Test
    void aBatchThatCannotGrowWithoutPassingTheLargestPreferredSizeRunsAtOnce() {
        Batching settings = batching(List.of(4), 8, 5_000);
        assertEquals(1, take(settings, List.of(3, 2), 0), "3 + 2 would pass 4");
        assertEquals(1, take(settings, List.of(6), 0), "6 rows already pass 4");
    }

    @Test
    void aRequestLargerThanTheMaximumBatchRunsAlone() {
        Batching settings = batching(List.of(), 4, 5_000);
        assertEquals(1, take(settings, List.of(10), 0));
        assertEquals(1, take(settings, List.of(10, 1), 0));
    }

    @Test
    void drainingRunsWhatThereIsWithoutWaiting() {
        BatchPlan plan = new BatchPlan(batching(List.of(4), 8, 5_000_000));
        assertEquals(3, plan.take(List.of(1, 1, 1), Integer::intValue, 0, true));
        assertEquals(6, plan.take(List.of(1, 1, 1, 1, 1, 1), Integer::intValue, 0, true), "not only the preferred 4");
    }

    @Test
    void settingsOutOfRangeAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> batching(List.of(), 0, 0))
                .getMessage().startsWith("batching.max-batch-size must be at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> batching(List.of(4, 16), 8, 0))
                .getMessage().startsWith("batching.preferred-batch-sizes must lie between 1 and max-batch-size (8)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> batching(List.of(), 8, -1))
                .getMessage().startsWith("batching.max-queue-delay-microseconds must be >= 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Batching(true, List.of(), 8, 0, 0))
                .getMessage().startsWith("batching.max-queue-size must be at least 1"));
        assertEquals(List.of(2, 4), batching(List.of(4, 2, 4), 8, 0).preferredBatchSizes(), "sorted, once each");
    }
}
