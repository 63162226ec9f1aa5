package dev.distillery.serve;

import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Map;

/**
 * How each loaded model version is served: its batching, the default or its model's own, and where
 * its metrics go.
 *
 * @param batching what a model without its own settings gets
 * @param batchingByModel settings of single models, by model name
 */
public record ServingOptions(Batching batching, Map<String, Batching> batchingByModel, ServingMetrics metrics) {

    public ServingOptions {
        batchingByModel = Map.copyOf(batchingByModel);
    }

    /** No batching, metrics kept nowhere: for tools that only run models. */
    public static ServingOptions unbatched() {
        return new ServingOptions(Batching.OFF, Map.of(), new ServingMetrics(new CompositeMeterRegistry()));
    }

    public Batching batching(String model) {
        return batchingByModel.getOrDefault(model, batching);
    }
}
