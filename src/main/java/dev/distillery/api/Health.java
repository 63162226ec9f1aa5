package dev.distillery.api;

import dev.distillery.config.Roles;
import dev.distillery.jobs.JobManager;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.store.ModelStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the model store answers ({@link ModelStore#healthy}: its folder readable, and writable where this
 * replica writes to it; with s3 the bucket answers and the cache is writable) and ONNX Runtime has started, and,
 * for the control role, once the job folder is writable (a serve-only replica does not need it).
 */
@Readiness
@ApplicationScoped
public class Health implements HealthCheck {

    @Inject
    ModelStore store;

    @Inject
    OnnxRuntime runtime;

    @Inject
    Roles roles;

    @Inject
    JobManager jobs;

    @Override
    public HealthCheckResponse call() {
        boolean control = roles.holds(Roles.Role.CONTROL);
        HealthCheckResponseBuilder response = HealthCheckResponse.named("distillery")
                .status(store.healthy() && (!control || jobs.healthy()))
                .withData("roles", roles.toString())
                .withData("store", store.location())
                .withData("onnxruntime", runtime.environment().getVersion() + " on " + runtime.provider());
        if (control) {
            response.withData("jobs", jobs.root().toString());
        }
        return response.build();
    }
}
