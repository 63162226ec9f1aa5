package dev.distillery.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed loop, as perf_analyzer runs one: {@code concurrency} calls always in flight on one channel;
 * each answer starts the next call at once. First a warm-up whose calls are not recorded, then the
 * measured interval; a call counts when it started inside the interval. Callbacks run on the channel's
 * one event-loop thread (the channel is built with a direct executor), so the client costs one thread
 * however many calls are in flight, and the latencies need no locking.
 */
final class ClosedLoop<Q, R> {

    /** One level's figures. */
    record Level(int concurrency, int calls, int errors, double seconds, double p50, double p90, double p99,
            double p999, double serverCpuMicrosPerCall, String firstError) {

        double callsPerSecond() {
            return calls / seconds;
        }
    }

    private final ManagedChannel channel;
    private final MethodDescriptor<Q, R> method;
    private final Q request;

    ClosedLoop(ManagedChannel channel, MethodDescriptor<Q, R> method, Q request) {
        this.channel = channel;
        this.method = method;
        this.request = request;
    }

    /** Calls for {@code seconds} at {@code concurrency} and records nothing: lets the JIT compile the paths first. */
    void warm(int concurrency, double seconds) throws InterruptedException {
        long until = System.nanoTime() + (long) (seconds * 1e9);
        CountDownLatch drained = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            call(new Latencies(), new AtomicLong(), new AtomicReference<>(), until, until, drained);
        }
        if (!drained.await((long) seconds + 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("calls still in flight 60 s after the warm-up ended");
        }
    }

    /**
     * @param server the serving process, whose CPU time over the measured interval is divided among its calls
     *     (a figure the machine's load barely moves, unlike latency)
     */
    Level run(int concurrency, double warmupSeconds, double seconds, ProcessHandle server) throws InterruptedException {
        Latencies latencies = new Latencies();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long measureFrom = start + (long) (warmupSeconds * 1e9);
        long measureUntil = measureFrom + (long) (seconds * 1e9);
        CountDownLatch drained = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            call(latencies, errors, firstError, measureFrom, measureUntil, drained);
        }
        sleepUntil(measureFrom);
        Duration cpuFrom = cpu(server);
        sleepUntil(measureUntil);
        Duration cpu = cpu(server).minus(cpuFrom);
        if (!drained.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("calls still in flight 60 s after the interval ended");
        }
        return new Level(concurrency, latencies.count(), (int) errors.get(), seconds,
                latencies.percentileMillis(50), latencies.percentileMillis(90), latencies.percentileMillis(99),
                latencies.percentileMillis(99.9), cpu.toNanos() / 1e3 / latencies.count(), firstError.get());
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** A process's CPU time so far, user and system (Linux counts it in 10 ms ticks). */
    static Duration cpu(ProcessHandle process) {
        return process.info().totalCpuDuration().orElseThrow(
                () -> new IllegalStateException("no CPU time for process " + process.pid()));
    }

    private void call(Latencies latencies, AtomicLong errors, AtomicReference<String> firstError, long measureFrom,
            long measureUntil, CountDownLatch drained) {
        long started = System.nanoTime();
        if (started >= measureUntil) {
            drained.countDown();
            return;
        }
        ClientCalls.asyncUnaryCall(channel.newCall(method, CallOptions.DEFAULT), request, new StreamObserver<R>() {
            @Override
            public void onNext(R response) {
                long ended = System.nanoTime();
                if (started >= measureFrom) {
                    latencies.record(ended - started);
                }
            }

            @Override
            public void onError(Throwable error) {
                if (started >= measureFrom) {
                    errors.incrementAndGet();
                }
                firstError.compareAndSet(null, error.toString());
                next();
            }

            @Override
            public void onCompleted() {
                next();
            }

            private void next() {
                call(latencies, errors, firstError, measureFrom, measureUntil, drained);
            }
        });
    }
}
