package dev.distillery.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LatenciesTest {

    @Test
    void percentilesAreNearestRankOverEveryRecordedCall() {
        Latencies latencies = new Latencies();
        // 1..100 ms in shuffled order, past the initial capacity to exercise growth.
        Latencies more = new Latencies();
        for (int i = 100; i >= 1; i--) {
            (i % 2 == 0 ? latencies : more).record(i * 1_000_000L);
        }
        for (int i = 0; i < 20_000; i++) {
            more.record(50_000_000L);
        }
        latencies.add(more);
        assertEquals(20_100, latencies.count());
        assertEquals(50.0, latencies.percentileMillis(50));
        assertEquals(100.0, latencies.percentileMillis(100));
        // 49 calls of 1..49 ms, 20,001 of 50 ms, then 51..100: the 0.1st percentile is rank 21, 21 ms.
        assertEquals(21.0, latencies.percentileMillis(0.1));
        assertEquals(50.0, latencies.percentileMillis(99.7));
        // Rank ceil(0.999 * 20,100) = 20,080: past the 50 ms block (which ends at rank 20,050), 30 ms further.
        assertEquals(80.0, latencies.percentileMillis(99.9));
    }

    @Test
    void refusesAnEmptyIntervalAndPercentsOutOfRange() {
        Latencies latencies = new Latencies();
        assertThrows(IllegalStateException.class, () -> latencies.percentileMillis(50));
        latencies.record(1);
        assertThrows(IllegalArgumentException.class, () -> latencies.percentileMillis(0));
        assertThrows(IllegalArgumentException.class, () -> latencies.percentileMillis(101));
    }
}
