package dev.distillery.serve;

import dev.distillery.error.DistilleryException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Prometheus series of one model version, tagged {@code model} and {@code version}, registered
 * once when the version loads so that serving a request looks nothing up:
 *
 * <ul>
 *   <li>{@code distillery_model_requests_total}: requests that reached this version;
 *   <li>{@code distillery_model_failures_total{status}}: those that failed, by gRPC status code;
 *   <li>{@code distillery_model_batch_size}: rows per ONNX Runtime run (histogram);
 *   <li>{@code distillery_model_queue_time_seconds}: time a request waited in the batcher's queue (histogram);
 *   <li>{@code distillery_model_compute_time_seconds}: time of one ONNX Runtime run (histogram).
 * </ul>
 */
public final class ModelMetrics {

    public static final String REQUESTS = "distillery.model.requests";
    public static final String FAILURES = "distillery.model.failures";
    public static final String BATCH_SIZE = "distillery.model.batch.size";
    public static final String QUEUE_TIME = "distillery.model.queue.time";
    public static final String COMPUTE_TIME = "distillery.model.compute.time";

    /** Status of a failure that is no {@link DistilleryException}: what GrpcErrors answers for it. */
    static final String INTERNAL = "INTERNAL";

    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    private static final Duration[] TIME_BUCKETS = durations(
            25_000, 50_000, 100_000, 250_000, 500_000,
            1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
            100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000L, 10_000_000_000L);

    private final List<Meter> meters = new ArrayList<>();
    private final Counter requests;
    private final Map<DistilleryException.Kind, Counter> failures = new EnumMap<>(DistilleryException.Kind.class);
    private final Counter internalFailures;
    private final DistributionSummary batchSize;
    private final Timer queueTime;
    private final Timer computeTime;

    ModelMetrics(MeterRegistry registry, String model, long version) {
        Tags tags = Tags.of("model", model, "version", Long.toString(version));
        requests = keep(Counter.builder(REQUESTS).description("Requests that reached this model version")
                .tags(tags).register(registry));
        for (DistilleryException.Kind kind : DistilleryException.Kind.values()) {
            failures.put(kind, failureCounter(registry, tags, kind.name()));
        }
        internalFailures = failureCounter(registry, tags, INTERNAL);
        batchSize = keep(DistributionSummary.builder(BATCH_SIZE).description("Rows per ONNX Runtime run")
                .serviceLevelObjectives(BATCH_BUCKETS).tags(tags).register(registry));
        queueTime = keep(Timer.builder(QUEUE_TIME).description("Time a request waited in the dynamic batcher's queue")
                .serviceLevelObjectives(TIME_BUCKETS).tags(tags).register(registry));
        computeTime = keep(Timer.builder(COMPUTE_TIME).description("Time of one ONNX Runtime run")
                .serviceLevelObjectives(TIME_BUCKETS).tags(tags).register(registry));
    }

    private Counter failureCounter(MeterRegistry registry, Tags tags, String status) {
        return keep(Counter.builder(FAILURES).description("Requests to this model version that failed, by status")
                .tags(tags).tag("status", status).register(registry));
    }

    private <M extends Meter> M keep(M meter) {
        meters.add(meter);
        return meter;
    }

    void request() {
        requests.increment();
    }

    /** Counts a failed request under the status code it is answered with. */
    void failed(Throwable error) {
        (error instanceof DistilleryException known ? failures.get(known.kind()) : internalFailures).increment();
    }

    void queued(long nanos) {
        queueTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    void ran(int rows, long nanos) {
        batchSize.record(rows);
        computeTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    void remove(MeterRegistry registry) {
        meters.forEach(registry::remove);
    }

    private static Duration[] durations(long... nanos) {
        Duration[] out = new Duration[nanos.length];
        for (int i = 0; i < nanos.length; i++) {
            out[i] = Duration.ofNanos(nanos[i]);
        }
        return out;
    }
}
