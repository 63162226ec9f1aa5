package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The batcher with a stand-in for ONNX Runtime that records each run's rows and can hold a run until
 * the test lets it go, so every ordering is set by latches, never by time.
 */
class DynamicBatcherTest {

    private static final int ROW = 3;
    private static final int CLASSES = 2;
    private static final long HOUR_MICROS = 3_600_000_000L;
    private static final ModelRef REF = ModelRef.newBuilder().setName("tiny").setVersion(7).build();

    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final List<DynamicBatcher> batchers = new ArrayList<>();

    /** Logits of a row: (sum of the row, its first value): enough to tell every row from every other. */
    private static final class FakeModel implements DynamicBatcher.Run {
        final List<Integer> runs = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch firstRunStarted = new CountDownLatch(1);
        final CountDownLatch releaseFirstRun;
        volatile RuntimeException failure;

        FakeModel(boolean holdFirstRun) {
            releaseFirstRun = new CountDownLatch(holdFirstRun ? 1 : 0);
        }

        @Override
        public float[] logits(FloatBuffer input, int rows) {
            firstRunStarted.countDown();
            try {
                assertTrue(releaseFirstRun.await(30, TimeUnit.SECONDS), "the test never released the first run");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            runs.add(rows);
            threads.add(Thread.currentThread().getName());
            if (failure != null) {
                throw failure;
            }
            input.rewind();
            float[] out = new float[rows * CLASSES];
            for (int r = 0; r < rows; r++) {
                float first = input.get();
                float sum = first;
                for (int i = 1; i < ROW; i++) {
                    sum += input.get();
                }
                out[r * CLASSES] = sum;
                out[r * CLASSES + 1] = first;
            }
            return out;
        }
    }

    private DynamicBatcher batcher(Batching settings, FakeModel model) {
        DynamicBatcher batcher = new DynamicBatcher(REF, settings, ROW, CLASSES, model,
                new ServingMetrics(new SimpleMeterRegistry()).acquire("tiny", 7),
                () -> DistilleryException.notFound("tiny/7 is gone"));
        batchers.add(batcher);
        return batcher;
    }

    @AfterEach
    void stop() {
        batchers.forEach(DynamicBatcher::close);
        callers.shutdownNow();
    }

    /** {@code rows} rows whose values start at {@code first}: row r is first + 10r, first + 10r + 1, ... */
    private static FloatBuffer rows(float first, int rows) {
        FloatBuffer input = LoadedModel.directFloats(rows * ROW);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < ROW; i++) {
                input.put(first + 10 * r + i);
            }
        }
        return input;
    }

    private static float[] expected(float first, int rows) {
        float[] out = new float[rows * CLASSES];
        for (int r = 0; r < rows; r++) {
            float start = first + 10 * r;
            out[r * CLASSES] = 3 * start + 3;
            out[r * CLASSES + 1] = start;
        }
        return out;
    }

    private Future<float[]> submit(DynamicBatcher batcher, float first, int rows) {
        return callers.submit(() -> batcher.logits(rows(first, rows), rows));
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(1);
        }
    }

    @Test
    void everyCallerGetsExactlyItsOwnRowsUnderConcurrency() throws Exception {
        FakeModel model = new FakeModel(false);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 16, 0, 10_000), model);
        int threads = 8;
        int perThread = 200;
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(CompletableFuture.runAsync(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < perThread; i++) {
                    int rows = 1 + (thread + i) % 3;
                    float first = 100_000 * thread + 1_000 * i;
                    assertArrayEquals(expected(first, rows), batcher.logits(rows(first, rows), rows),
                            "thread " + thread + ", request " + i);
                }
            }, callers));
        }
        start.countDown();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        int total = 0;
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                total += 1 + (t + i) % 3;
            }
        }
        assertEquals(total, model.runs.stream().mapToInt(Integer::intValue).sum(), "every row ran once");
        assertTrue(model.runs.stream().allMatch(rows -> rows <= 16), "no batch passed the maximum: " + model.runs);
    }

    @Test
    void withoutDelayTheRequestsQueuedDuringARunRunTogetherNext() throws Exception {
        FakeModel model = new FakeModel(true);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 16, 0, 100), model);
        Future<float[]> first = submit(batcher, 1, 1);
        assertTrue(model.firstRunStarted.await(30, TimeUnit.SECONDS));
        Future<float[]> a = submit(batcher, 1_000, 2);
        Future<float[]> b = submit(batcher, 2_000, 1);
        Future<float[]> c = submit(batcher, 3_000, 3);
        waitUntil(() -> batcher.queuedRows() == 6, "three requests wait");
        model.releaseFirstRun.countDown();
        assertArrayEquals(expected(1, 1), first.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(1_000, 2), a.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(2_000, 1), b.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(3_000, 3), c.get(30, TimeUnit.SECONDS));
        assertEquals(List.of(1, 6), model.runs);
        assertEquals("batcher tiny/7", model.threads.get(1), "the batch ran on the dispatcher");
    }

    @Test
    void aRequestThatFindsTheModelIdleRunsOnItsCallersThread() throws Exception {
        FakeModel model = new FakeModel(false);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 16, 0, 100), model);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected(10 * i, 2), batcher.logits(rows(10 * i, 2), 2));
        }
        String caller = Thread.currentThread().getName();
        assertEquals(List.of(caller, caller, caller), model.threads, "no hand-over when there is nothing to wait for");
    }

    @Test
    void aBatchWaitsForItsPreferredSizeAndRunsTheMomentItIsReached() throws Exception {
        FakeModel model = new FakeModel(false);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(4), 8, HOUR_MICROS, 100), model);
        List<Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            results.add(submit(batcher, 1_000 * i, 1));
        }
        waitUntil(() -> batcher.queuedRows() == 3, "three requests wait");
        assertEquals(List.of(), model.runs, "three rows wait for the fourth, up to an hour");
        results.add(submit(batcher, 3_000, 1));
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(expected(1_000 * i, 1), results.get(i).get(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of(4), model.runs);
    }

    @Test
    void aRequestThatWaitedTheMaximumDelayRunsWithoutItsPreferredBatch() throws Exception {
        FakeModel model = new FakeModel(false);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(4), 8, 1, 100), model);
        assertArrayEquals(expected(5, 2), batcher.logits(rows(5, 2), 2));
        assertEquals(List.of(2), model.runs);
    }

    @Test
    void aRequestLargerThanTheMaximumBatchRunsAlone() throws Exception {
        FakeModel model = new FakeModel(false);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 2, 0, 100), model);
        assertArrayEquals(expected(7, 5), batcher.logits(rows(7, 5), 5));
        assertEquals(List.of(5), model.runs);
    }

    @Test
    void aFullQueueRefusesWithTheModelAndTheSettingUntilItEmpties() throws Exception {
        FakeModel model = new FakeModel(true);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 16, 0, 4), model);
        Future<float[]> running = submit(batcher, 1, 1);
        assertTrue(model.firstRunStarted.await(30, TimeUnit.SECONDS));
        Future<float[]> queued = submit(batcher, 100, 3);
        waitUntil(() -> batcher.queuedRows() == 3, "three rows wait");

        DistilleryException full = assertThrows(DistilleryException.class, () -> batcher.logits(rows(200, 2), 2));
        assertEquals(DistilleryException.Kind.RESOURCE_EXHAUSTED, full.kind());
        assertEquals("model tiny/7 is busy: 3 rows wait in its queue and this request adds 2, over the limit of 4 "
                + "(distillery.serving.models.\"tiny\".batching.max-queue-size); retry later", full.getMessage());
        Future<float[]> fits = submit(batcher, 300, 1);
        waitUntil(() -> batcher.queuedRows() == 4, "one more row fits");

        model.releaseFirstRun.countDown();
        assertArrayEquals(expected(1, 1), running.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(100, 3), queued.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(300, 1), fits.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(400, 6), batcher.logits(rows(400, 6), 6),
                "a request larger than the queue limit is admitted when the queue is empty");
    }

    @Test
    void closingRunsTheQueuedRequestsAtOnceThenRefusesNewOnes() throws Exception {
        FakeModel model = new FakeModel(true);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(8), 8, HOUR_MICROS, 100), model);
        Future<float[]> running = submit(batcher, 1, 8);
        assertTrue(model.firstRunStarted.await(30, TimeUnit.SECONDS));
        Future<float[]> a = submit(batcher, 1_000, 1);
        Future<float[]> b = submit(batcher, 2_000, 2);
        waitUntil(() -> batcher.queuedRows() == 3, "three rows wait for a batch of 8, up to an hour");

        Future<?> closed = callers.submit(batcher::close);
        assertFalse(closed.isDone(), "close cannot return while the first run holds the dispatcher");
        model.releaseFirstRun.countDown();
        closed.get(30, TimeUnit.SECONDS);
        assertEquals(List.of(8, 3), model.runs, "before close returned, the queued rows ran without waiting out the delay");
        assertArrayEquals(expected(1, 8), running.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(1_000, 1), a.get(30, TimeUnit.SECONDS));
        assertArrayEquals(expected(2_000, 2), b.get(30, TimeUnit.SECONDS));
        DistilleryException gone = assertThrows(DistilleryException.class, () -> batcher.logits(rows(0, 1), 1));
        assertEquals("tiny/7 is gone", gone.getMessage());
    }

    @Test
    void aFailedRunFailsEveryCallerInItAndTheBatcherGoesOn() throws Exception {
        FakeModel model = new FakeModel(true);
        DynamicBatcher batcher = batcher(new Batching(true, List.of(), 16, 0, 100), model);
        Future<float[]> first = submit(batcher, 1, 1);
        assertTrue(model.firstRunStarted.await(30, TimeUnit.SECONDS));
        Future<float[]> a = submit(batcher, 10, 1);
        Future<float[]> b = submit(batcher, 20, 1);
        waitUntil(() -> batcher.queuedRows() == 2, "two requests wait");
        DistilleryException broken = DistilleryException.precondition("model tiny/7 returns 3 scores per input");
        model.failure = broken;
        model.releaseFirstRun.countDown();
        for (Future<float[]> failed : List.of(first, a, b)) {
            Exception e = assertThrows(Exception.class, () -> failed.get(30, TimeUnit.SECONDS));
            assertSame(broken, e.getCause(), "the run's own exception, with its status");
        }
        model.failure = null;
        assertArrayEquals(expected(30, 1), batcher.logits(rows(30, 1), 1));
    }
}
