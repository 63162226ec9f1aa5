package dev.distillery;

import dev.distillery.config.DistilleryConfig;
import dev.distillery.distill.DistillationRun;
import dev.distillery.jobs.JobLauncher;
import dev.distillery.jobs.Worker;
import dev.distillery.jobs.ThreadWorkerHandle;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * For every @QuarkusTest: each job's worker is a thread of the test JVM rather than a child process
 * (a test run has no packaged application to start). It is the real {@link Worker}, talking to the
 * test server's Workers service over gRPC on the test port, so claims, tokens, events and stops take
 * the production path; only the process boundary is missing (the ITs cover it).
 */
public class ThreadWorkers {

    @Produces
    @Alternative
    @Priority(1)
    @Singleton
    JobLauncher launcher(Instance<DistillationRun> training, DistilleryConfig config) {
        return (job, token) -> {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
            CompletableFuture<Integer> exit = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    exit.complete(new Worker(training.get(), config.jobs().root(), Duration.ofSeconds(30),
                            code -> exit.complete(code)).run(channel, job.getId(), token).code());
                } catch (Throwable e) {
                    exit.completeExceptionally(e);
                } finally {
                    channel.shutdownNow();
                }
            }, "test-worker-" + job.getId());
            thread.setDaemon(true);
            thread.start();
            return new ThreadWorkerHandle(thread.getName(), thread, exit);
        };
    }
}
