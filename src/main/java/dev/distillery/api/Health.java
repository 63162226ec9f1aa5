package dev.distillery.api;

import dev.distillery.serve.OnnxRuntime;
import dev.distillery.store.ModelStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the model store is readable and writable and ONNX Runtime has started. */
@Readiness
@ApplicationScoped
public class Health implements HealthCheck {

    @Inject
    ModelStore store;

    @Inject
    OnnxRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("distillery")
                .status(store.healthy())
                .withData("store", store.root().toString())
                .withData("onnxruntime", runtime.environment().getVersion() + " on " + runtime.provider())
                .build();
    }
}
