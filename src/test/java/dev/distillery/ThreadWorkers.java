package dev.distillery;

import dev.distillery.config.DistilleryConfig;
import dev.distillery.distill.DistillationRun;
import dev.distillery.jobs.InProcessLauncher;
import dev.distillery.jobs.JobLauncher;
import io.grpc.ManagedChannelBuilder;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * For every @QuarkusTest: jobs run on the {@link InProcessLauncher} (a test run has no packaged application
 * to start a worker process from), whose workers reach the test server's Workers service on the test port.
 * It is the real {@link dev.distillery.jobs.Worker}, so claims, tokens, events and stops take the production
 * path; only the process boundary is missing (the ITs cover it).
 */
public class ThreadWorkers {

    @Produces
    @Alternative
    @Priority(1)
    @Singleton
    JobLauncher launcher(Instance<DistillationRun> training, DistilleryConfig config) {
        return new InProcessLauncher(training::get, config.jobs().root(), config.worker().grace(),
                () -> ManagedChannelBuilder.forAddress("localhost",
                        ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class)).usePlaintext().build());
    }
}
