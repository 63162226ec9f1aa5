package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.TestCertificates;
import dev.distillery.jobs.ControlChannel;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.Worker;
import dev.distillery.jobs.WorkerExit;
import dev.distillery.jobs.WorkerHandle;
import dev.distillery.v1.Finished;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker reaches a control whose port speaks only TLS (a certificate signed by a CA made for the test) when it
 * trusts that CA ({@code distillery.worker.tls-ca}); in plain text it cannot claim its job.
 */
class WorkerTlsTest {

    @TempDir
    Path root;
    private Server server;
    private JobManager jobs;
    private Optional<Path> trusted;
    /** What the next worker trusts: control's CA, or nothing (plain text). */
    private volatile Optional<Path> ca;

    @BeforeEach
    void start() throws Exception {
        TestCertificates tls = TestCertificates.create(root.resolve("tls"));
        jobs = new JobManager(root.resolve("jobs"), this::launch, new JobManager.Settings(1, Duration.ofSeconds(30)),
                finished -> {}).start();
        WorkersGrpcService workers = new WorkersGrpcService();
        workers.jobs = jobs;
        server = Grpc.newServerBuilderForPort(0, TlsServerCredentials.create(tls.cert().toFile(), tls.key().toFile()))
                .addService(workers).build().start();
        trusted = Optional.of(tls.ca());
    }

    @AfterEach
    void stop() throws Exception {
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        jobs.close();
    }

    /** Runs the real worker on a thread, connected as the worker role connects: through {@link ControlChannel}. */
    private WorkerHandle launch(dev.distillery.v1.Job job, String token) {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            ManagedChannel control = ControlChannel.open("localhost:" + server.getPort(), ca);
            try {
                exit.complete(new Worker((recipe, context) -> Finished.newBuilder()
                        .setModel(ModelRef.newBuilder().setName(recipe.getOutputModel()).setVersion(1)).build(),
                        root.resolve("jobs"), Duration.ofSeconds(30), code -> {}).run(control, job.getId(), token).code());
            } catch (Exception e) {
                exit.completeExceptionally(e);
            } finally {
                control.shutdownNow();
            }
        });
        thread.setDaemon(true);
        thread.start();
        return new FutureWorkerHandle(exit);
    }

    private dev.distillery.v1.Job run(String model) throws Exception {
        String id = jobs.submit(Recipe.newBuilder().setOutputModel(model).setEpochs(1).build());
        CompletableFuture<dev.distillery.v1.Job> ended = new CompletableFuture<>();
        jobs.watch(id, event -> {
            if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
                ended.complete(jobs.get(id));
            }
        });
        return ended.get(60, TimeUnit.SECONDS);
    }

    @Test
    void aWorkerTrustingControlsCaClaimsAndFinishesItsJobOverTls() throws Exception {
        ca = trusted;
        dev.distillery.v1.Job job = run("over-tls");
        assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState(), job.getError());
    }

    @Test
    void aPlainTextWorkerCannotReachATlsControl() throws Exception {
        ca = Optional.empty();
        dev.distillery.v1.Job job = run("plain-text");
        assertEquals(JobState.JOB_STATE_FAILED, job.getState());
        assertTrue(job.getError().contains(WorkerExit.describe(WorkerExit.CONTROL_LOST.code())), job.getError());
    }
}
