package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PrefetcherTest {

    @Test
    void itemsComeInOrderWhateverThreadLoadsThem() {
        List<Integer> seen = new ArrayList<>();
        try (Prefetcher<Integer> items = new Prefetcher<>(50, 2, 3, i -> i * i)) {
            items.forEachRemaining(seen::add);
        }
        for (int i = 0; i < 50; i++) {
            assertEquals(i * i, seen.get(i));
        }
    }

    @Test
    void atMostAheadItemsAreLoadedPastWhatWasTaken() {
        AtomicInteger started = new AtomicInteger();
        Prefetcher<Integer> items = new Prefetcher<>(1000, 2, 3, i -> {
            started.incrementAndGet();
            return i;
        });
        for (int i = 0; i < 5; i++) {
            assertEquals(i, items.next());
        }
        items.close();
        // close() waits for the threads: no load starts afterwards.
        assertTrue(started.get() <= 5 + 3, started.get() + " loads started for 5 items taken");
        assertTrue(items.hasNext());
    }

    @Test
    void aFailingLoadRethrowsWhereItsItemIsTaken() {
        try (Prefetcher<Integer> items = new Prefetcher<>(10, 2, 2, i -> {
            if (i == 4) {
                throw new IllegalStateException("image 4 is corrupt");
            }
            return i;
        })) {
            for (int i = 0; i < 4; i++) {
                assertEquals(i, items.next());
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, items::next);
            assertEquals("image 4 is corrupt", e.getMessage());
        }
    }

    @Test
    void nothingToLoadIsEmpty() {
        try (Prefetcher<Integer> items = new Prefetcher<>(0, 2, 2, i -> i)) {
            assertFalse(items.hasNext());
        }
    }
}
