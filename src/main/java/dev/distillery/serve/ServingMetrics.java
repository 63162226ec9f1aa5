package dev.distillery.serve;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@link ModelMetrics} of every loaded model version. Two sessions of one version may be open at
 * once (a version reloaded while the old session drains), so a version's series are shared and
 * leave the registry only when its last session closes.
 */
public final class ServingMetrics {

    private final MeterRegistry registry;
    private final Map<String, Entry> open = new HashMap<>();

    private static final class Entry {
        final ModelMetrics metrics;
        int users;

        Entry(ModelMetrics metrics) {
            this.metrics = metrics;
        }
    }

    public ServingMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The series of one version, registered on first use; give them back with {@link #release}. */
    synchronized ModelMetrics acquire(String model, long version) {
        Entry entry = open.computeIfAbsent(model + "/" + version,
                key -> new Entry(new ModelMetrics(registry, model, version)));
        entry.users++;
        return entry.metrics;
    }

    synchronized void release(String model, long version) {
        String key = model + "/" + version;
        Entry entry = open.get(key);
        if (entry != null && --entry.users == 0) {
            open.remove(key);
            entry.metrics.remove(registry);
        }
    }
}
