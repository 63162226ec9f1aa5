package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.distillery.v1.Architecture;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
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
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged server, killed with SIGKILL in the middle of a training job, resumes the job on the
 * next start from its last checkpoint and ends with the model an uninterrupted run of the same recipe
 * makes, byte for byte.
 *
 * <p>Runs after {@code mvn package} (failsafe), against {@code target/quarkus-app/quarkus-run.jar},
 * with its own store and job folders under {@code target/kill-and-resume-it/}.
 */
class KillAndResumeIT {

    private static final Path APP = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
    private static final Path WORK = Path.of("target/kill-and-resume-it").toAbsolutePath();
    private static final Path STORE = WORK.resolve("models");
    private static final Path JOBS = WORK.resolve("jobs");
    private static final int EPOCHS = 6;
    /** The server is killed once this epoch has been reported. */
    private static final int KILL_AFTER_EPOCH = 3;
    /** What the trainer says when it continues from a checkpoint (stage "resume"). */
    private static final Pattern RESUMED_FROM = Pattern.compile("resumed from the checkpoint after epoch (\\d+)");
    private static final Duration STARTUP = Duration.ofMinutes(3);
    private static final Duration JOB = Duration.ofMinutes(10);

    /** A small job with everything that could vary fixed: data, architecture, batch and seed. */
    private static Recipe recipe(String outputModel) {
        return Recipe.newBuilder()
                .setOutputModel(outputModel)
                .setStudent(Architecture.newBuilder().setName("cnn")
                        .addStages(ConvStage.newBuilder().addChannels(8))
                        .setBatchNorm(true)
                        .addHidden(32))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(2000))
                .setEpochs(EPOCHS)
                .setBatchSize(64)
                .setSeed(11)
                .build();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void aJobKilledMidRunResumesFromItsCheckpointAndMakesTheSameModel() throws Exception {
        assertTrue(Files.isRegularFile(APP), "package the server first (mvn package): " + APP);
        deleteTree(WORK);
        Files.createDirectories(WORK);
        List<Server> started = new ArrayList<>();
        try {
            // 1. Submit, follow the job to the end of epoch KILL_AFTER_EPOCH, then SIGKILL the server.
            Server first = start(started, 1);
            String jobId;
            try (Connection connection = new Connection(first.port())) {
                Iterator<JobEvent> events = connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .train(TrainRequest.newBuilder().setRecipe(recipe("resumed")).build());
                jobId = events.next().getJobId();
                awaitEpoch(events, KILL_AFTER_EPOCH);
                first.process().destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no chance to record anything
                assertTrue(first.process().waitFor(30, TimeUnit.SECONDS), "the killed server did not exit");
                assertEquals(128 + 9, first.process().exitValue(), "the server died of SIGKILL");
            }
            String recordAtKill = Files.readString(JOBS.resolve(jobId + ".json"));
            assertTrue(recordAtKill.contains("JOB_STATE_RUNNING"), recordAtKill);
            boolean checkpointAtKill = Files.isDirectory(JOBS.resolve(jobId));

            // 2. Restart on the same folders and follow the job again until it ends.
            Server second = start(started, 2);
            List<JobEvent> afterRestart = new ArrayList<>();
            Job job;
            Job reference;
            try (Connection connection = new Connection(second.port())) {
                connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build())
                        .forEachRemaining(afterRestart::add);
                job = connection.training.getJob(GetJobRequest.newBuilder().setJobId(jobId).build());

                // 3. The same recipe, uninterrupted, on the same server.
                List<JobEvent> referenceEvents = new ArrayList<>();
                connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .train(TrainRequest.newBuilder().setRecipe(recipe("uninterrupted")).build())
                        .forEachRemaining(referenceEvents::add);
                reference = connection.training.getJob(GetJobRequest.newBuilder()
                        .setJobId(referenceEvents.get(0).getJobId()).build());
            }

            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState(), job.getError());
            assertEquals(1, job.getResumes());
            assertEquals(IntStream.rangeClosed(1, EPOCHS).boxed().toList(), epochs(job.getEpochsList()),
                    "every epoch recorded once, in order");
            assertFalse(Files.exists(JOBS.resolve(jobId)), "the job's checkpoints are deleted once it has ended");
            assertEquals(JobState.JOB_STATE_SUCCEEDED, reference.getState(), reference.getError());
            assertArrayEquals(Files.readAllBytes(modelFile(reference.getModel())), Files.readAllBytes(modelFile(job.getModel())),
                    "the resumed job's model.onnx is byte-identical to the uninterrupted run's");

            // The resumed attempt continued after epoch K >= 2 rather than starting over.
            assertTrue(checkpointAtKill, "no checkpoint folder " + JOBS.resolve(jobId) + " when the server was killed");
            List<JobEvent> resumedAttempt = afterRestart.subList(indexOfStage(afterRestart, "resumed") + 1, afterRestart.size());
            int resumeStage = indexOfStage(resumedAttempt, "resume");
            assertTrue(resumeStage >= 0, "the resumed run never said it continued from a checkpoint: " + stages(resumedAttempt));
            Matcher from = RESUMED_FROM.matcher(resumedAttempt.get(resumeStage).getStage().getMessage());
            assertTrue(from.find(), resumedAttempt.get(resumeStage).toString());
            int checkpointEpoch = Integer.parseInt(from.group(1));
            assertTrue(checkpointEpoch >= 2, "resumed after epoch " + checkpointEpoch + ", killed after epoch " + KILL_AFTER_EPOCH);
            List<Integer> rerun = epochs(resumedAttempt.stream().filter(JobEvent::hasEpoch).map(JobEvent::getEpoch).toList());
            assertEquals(IntStream.rangeClosed(checkpointEpoch + 1, EPOCHS).boxed().toList(), rerun,
                    "the resumed run trains only the epochs after its checkpoint");
        } finally {
            for (Server server : started) {
                stop(server.process());
            }
        }
    }

    /** Reads events until epoch {@code epoch} has ended; fails if the job ends first. */
    private static void awaitEpoch(Iterator<JobEvent> events, int epoch) {
        while (events.hasNext()) {
            JobEvent event = events.next();
            if (event.hasEpoch() && event.getEpoch().getEpoch() >= epoch) {
                return;
            }
            if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
                fail("the job ended before epoch " + epoch + ": " + event);
            }
        }
        fail("the event stream ended before epoch " + epoch);
    }

    private static List<Integer> epochs(List<EpochProgress> progress) {
        return progress.stream().map(EpochProgress::getEpoch).toList();
    }

    private static int indexOfStage(List<JobEvent> events, String name) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).hasStage() && events.get(i).getStage().getName().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> stages(List<JobEvent> events) {
        return events.stream().filter(JobEvent::hasStage).map(e -> e.getStage().getName()).toList();
    }

    private static Path modelFile(ModelRef model) {
        return STORE.resolve(model.getName()).resolve(Long.toString(model.getVersion())).resolve("model.onnx");
    }

    /** One run of the packaged server. */
    private record Server(Process process, int port) {}

    /** The packaged server on a free port, as {@code ./distillery serve} runs it, ready for calls. */
    private static Server start(List<Server> started, int run) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String threads = "1"; // the same in every run, and light on a shared machine
        String djlCache = System.getenv().getOrDefault("DJL_CACHE_DIR", Path.of("target/djl-cache").toAbsolutePath().toString());
        Path log = WORK.resolve("server-" + run + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=" + threads,
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dquarkus.http.port=" + port,
                "-Ddistillery.store.root=" + STORE,
                "-Ddistillery.jobs.root=" + JOBS,
                "-jar", APP.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("DJL_CACHE_DIR", djlCache);
        builder.environment().put("OMP_NUM_THREADS", threads);
        Server server = new Server(builder.start(), port);
        started.add(server);
        awaitReady(server, log);
        return server;
    }

    /** Polls the readiness endpoint: a starting process has no event to wait on. */
    private static void awaitReady(Server server, Path log) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + "/q/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.process().isAlive()) {
                fail("the server exited with " + server.process().exitValue() + " while starting:\n" + tail(log));
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
        fail("the server was not ready within " + STARTUP + ":\n" + tail(log));
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** SIGTERM, then SIGKILL if the server has not stopped within 30 s. */
    private static void stop(Process server) throws InterruptedException {
        if (!server.isAlive()) {
            return;
        }
        server.destroy();
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void deleteTree(Path root) throws IOException {
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
    private static final class Connection implements AutoCloseable {
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
