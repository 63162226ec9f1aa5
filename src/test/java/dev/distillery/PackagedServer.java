package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The packaged server ({@code target/quarkus-app/quarkus-run.jar}, built by {@code mvn package}) as
 * {@code ./distillery serve} runs it, on free ports (gRPC and HTTP) with its own store and job folders, for the ITs.
 * Its jobs run in worker processes it starts: its descendants.
 */
record PackagedServer(Process process, int port, int httpPort, Path log) implements AutoCloseable {

    static final Path APP = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
    private static final Duration STARTUP = Duration.ofMinutes(3);

    /** Starts it with {@code -D} settings on top of the store and job folders, and waits until it is ready. */
    static PackagedServer start(Path store, Path jobs, Path log, String... settings) throws Exception {
        assertTrue(Files.isRegularFile(APP), "package the server first (mvn package): " + APP);
        int port;
        int httpPort;
        try (ServerSocket grpc = new ServerSocket(0); ServerSocket http = new ServerSocket(0)) {
            port = grpc.getLocalPort();
            httpPort = http.getLocalPort();
        }
        String threads = "1"; // the same in every run, and light on a shared machine
        String djlCache = System.getenv().getOrDefault("DJL_CACHE_DIR", Path.of("target/djl-cache").toAbsolutePath().toString());
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=" + threads,
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dquarkus.grpc.server.port=" + port,
                "-Dquarkus.http.port=" + httpPort,
                "-Ddistillery.store.root=" + store,
                "-Ddistillery.jobs.root=" + jobs));
        command.addAll(List.of(settings));
        command.addAll(List.of("-jar", APP.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("DJL_CACHE_DIR", djlCache);
        builder.environment().put("OMP_NUM_THREADS", threads);
        PackagedServer server = new PackagedServer(builder.start(), port, httpPort, log);
        try {
            server.awaitReady();
        } catch (Throwable e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** Polls the readiness endpoint: a starting process has no event to wait on. */
    private void awaitReady() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/q/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("the server exited with " + process.exitValue() + " while starting:\n" + tail());
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet (the HTTP server opens its port last), or too busy starting to answer
            }
            Thread.sleep(250);
        }
        fail("the server was not ready within " + STARTUP + ":\n" + tail());
    }

    /** The worker processes it runs now, found as its descendants started for one job. */
    List<ProcessHandle> workers(String jobId) {
        return process.descendants()
                .filter(p -> p.info().arguments().map(List::of).orElse(List.of()).contains("-Ddistillery.worker.job=" + jobId))
                .toList();
    }

    String tail() throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    Connection connect() {
        return new Connection(port);
    }

    /** SIGTERM, then SIGKILL if the server has not stopped within 60 s (it waits for its workers). */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** A plaintext channel to one server, with the Training stub. */
    static final class Connection implements AutoCloseable {
        final ManagedChannel channel;
        final TrainingGrpc.TrainingBlockingStub training;

        Connection(int port) {
            channel = ManagedChannelBuilder.forAddress("localhost", port).usePlaintext().build();
            training = TrainingGrpc.newBlockingStub(channel);
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
