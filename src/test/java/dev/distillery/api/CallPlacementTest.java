package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CallPlacementTest {

    private static final long LIMIT = TimeUnit.MICROSECONDS.toNanos(250);

    /** A worker thread per call, waited for: a call and its timing have ended when {@code run} returns. */
    private final Executor workers = call -> {
        Thread worker = new Thread(call, "worker");
        worker.start();
        try {
            worker.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    };
    private final CallPlacement placement = new CallPlacement(LIMIT, workers, model -> !model.equals("waits"));

    /** The name of the thread {@code call} ran on, once it has run. */
    private static String ranOn(CallPlacement placement, String model, boolean inlineAllowed) {
        CompletableFuture<String> thread = new CompletableFuture<>();
        placement.run(model, "0", inlineAllowed, () -> thread.complete(Thread.currentThread().getName()));
        return thread.join();
    }

    @Test
    void aModelRunsOnAWorkerUntilItsCallsHaveProvenCheap() {
        // A limit no call that does nothing can reach, even on a busy machine that preempts it for a while.
        CallPlacement cheap = new CallPlacement(TimeUnit.SECONDS.toNanos(10), workers, model -> true);
        String here = Thread.currentThread().getName();
        assertEquals("worker", ranOn(cheap, "student", true), "never measured: a worker");
        // That call did nothing: its mean is under the limit, so the next ones run here.
        assertEquals(here, ranOn(cheap, "student", true));
        assertEquals(here, ranOn(cheap, "student", true));
        assertEquals("worker", ranOn(cheap, "student", false), "encoded images always go to a worker");
        assertEquals("worker", ranOn(cheap, "teacher", true), "each model is followed on its own");
    }

    @Test
    void aModelWhoseBatcherWaitsForBatchesNeverRunsInline() {
        for (int i = 0; i < 5; i++) {
            assertEquals("worker", ranOn(placement, "waits", true));
        }
    }

    @Test
    void theMeanFollowsEachCallWithAWeightOfAnEighth() {
        placement.record("m", LIMIT * 4);
        assertFalse(placement.runsInline("m"));
        // 4L -> 4L - 4L/8 = 3.5L -> ... : under L after ceil(log(1/4) / log(7/8)) = 11 cheap calls.
        int calls = 0;
        while (!placement.runsInline("m")) {
            placement.record("m", 0);
            calls++;
        }
        assertEquals(11, calls);
        // One slow call (a new version, a queue) is enough to send a model at the limit back to the workers.
        placement.record("m", LIMIT * 8);
        assertFalse(placement.runsInline("m"));
    }

    @Test
    void aLimitOfZeroSendsEveryCallToAWorker() {
        CallPlacement never = new CallPlacement(0, workers, model -> true);
        for (int i = 0; i < 5; i++) {
            assertEquals("worker", ranOn(never, "student", true));
        }
    }

    @Test
    void followsABoundedNumberOfModels() {
        for (int i = 0; i < 5000; i++) {
            placement.record("missing-" + i, 0);
        }
        assertTrue(placement.runsInline("missing-4999"));
        assertFalse(placement.runsInline("missing-0"), "forgotten once more than 1,024 were followed");
    }
}
