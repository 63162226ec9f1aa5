package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.util.Timestamps;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged server (roles control and serve, the default) runs each job in a worker process of its
 * own, two at once here ({@code distillery.jobs.max-running=2}): the client sees the same events as
 * ever; a cancel stops the worker; a worker killed with SIGKILL fails its job with a message saying so,
 * and the server serves on.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class WorkerProcessIT {

    private static final Path WORK = Path.of("target/worker-process-it").toAbsolutePath();
    private static final Path STORE = WORK.resolve("models");
    private static final Path JOBS = WORK.resolve("jobs");
    private static final Duration DEADLINE = Duration.ofMinutes(10);
    private static PackagedServer server;

    @BeforeAll
    static void start() throws Exception {
        PackagedServer.deleteTree(WORK);
        Files.createDirectories(WORK);
        server = PackagedServer.start(STORE, JOBS, WORK.resolve("server.log"), "-Ddistillery.jobs.max-running=2");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    /** A tiny job: 1,000 Fashion-MNIST images, a one-stage CNN, a fixed seed. */
    private static Recipe recipe(String outputModel, int epochs) {
        return Recipe.newBuilder()
                .setOutputModel(outputModel)
                .setStudent(Architecture.newBuilder().setName("cnn").addStages(ConvStage.newBuilder().addChannels(4)).addHidden(16))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(1000))
                .setEpochs(epochs)
                .setBatchSize(50)
                .setSeed(5)
                .build();
    }

    private static Iterator<JobEvent> train(PackagedServer.Connection connection, Recipe recipe) {
        return connection.training.withDeadlineAfter(DEADLINE.toSeconds(), TimeUnit.SECONDS)
                .train(TrainRequest.newBuilder().setRecipe(recipe).build());
    }

    private static List<JobEvent> rest(Iterator<JobEvent> events) {
        List<JobEvent> seen = new ArrayList<>();
        events.forEachRemaining(seen::add);
        return seen;
    }

    /** Reads events up to and including the first epoch's. */
    private static List<JobEvent> untilFirstEpoch(Iterator<JobEvent> events) {
        List<JobEvent> seen = new ArrayList<>();
        while (events.hasNext()) {
            JobEvent event = events.next();
            seen.add(event);
            if (event.hasEpoch()) {
                return seen;
            }
            if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
                fail("the job ended before its first epoch: " + event);
            }
        }
        return fail("the event stream ended before the first epoch: " + seen);
    }

    /** A process's nice value: field 19 of /proc/PID/stat, counted after its command name's closing parenthesis. */
    private static int niceness(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19 - 3]);
    }

    /** A process's environment, one NAME=VALUE per entry. */
    private static List<String> environment(long pid) throws IOException {
        return List.of(Files.readString(Path.of("/proc", Long.toString(pid), "environ")).split("\0"));
    }

    /** The TCP ports a process listens on: its sockets (from its file descriptors) in the LISTEN state. */
    private static Set<Integer> listeningPorts(long pid) throws IOException {
        Set<String> sockets = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        sockets.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed while we looked
                }
            }
        }
        Set<Integer> ports = new TreeSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+"); // local address, remote, state (0A = LISTEN), ..., inode at 9
                if (f[3].equals("0A") && sockets.contains(f[9])) {
                    ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    private static void await(String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + DEADLINE + ": " + what + "\n" + server.tail());
            }
            Thread.sleep(100);
        }
    }

    private static Job job(PackagedServer.Connection connection, String id) {
        return connection.training.getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    private static Path modelFile(ModelRef model) {
        return STORE.resolve(model.getName()).resolve(Long.toString(model.getVersion())).resolve("model.onnx");
    }

    @Test
    void aJobTrainsInAWorkerProcessAndItsClientSeesTheEventsAsBefore() throws Exception {
        try (PackagedServer.Connection connection = server.connect()) {
            Iterator<JobEvent> stream = train(connection, recipe("in-a-worker", 2));
            List<JobEvent> events = untilFirstEpoch(stream);
            String id = events.get(0).getJobId();
            List<ProcessHandle> workers = server.workers(id);
            assertEquals(1, workers.size(), "one worker process for the job");
            assertNotEquals(server.process().pid(), workers.get(0).pid());
            assertTrue(listeningPorts(server.process().pid()).containsAll(Set.of(server.port(), server.httpPort())));
            assertEquals(Set.of(), listeningPorts(workers.get(0).pid()), "a worker opens no port");
            assertEquals(Math.min(niceness(server.process().pid()) + 19, 19), niceness(workers.get(0).pid()),
                    "a worker yields the CPU to serving (distillery.jobs.worker-cpu-priority=low, nice 19)");
            assertTrue(environment(workers.get(0).pid()).contains("OMP_WAIT_POLICY=PASSIVE"),
                    "a worker's OpenMP threads sleep while they wait");
            assertFalse(Files.readString(server.log()).contains("Unable to start the gRPC server"),
                    "a worker does not even try to bind a port (its output is in the server's log)");
            events.addAll(rest(stream));

            assertTrue(events.get(0).hasQueued());
            assertEquals(List.of("started", "data", "training", "export"), events.stream().filter(JobEvent::hasStage)
                    .map(e -> e.getStage().getName()).toList());
            assertEquals(2, events.stream().filter(JobEvent::hasEpoch).count());
            JobEvent last = events.get(events.size() - 1);
            assertTrue(last.hasFinished(), last.toString());
            assertEquals(ModelRef.newBuilder().setName("in-a-worker").setVersion(1).build(), last.getFinished().getModel());
            assertTrue(events.stream().allMatch(e -> e.getJobId().equals(id)));
            Job job = job(connection, id);
            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState(), job.getError());
            assertEquals(2, job.getEpochsCount());
            assertTrue(Files.isRegularFile(modelFile(job.getModel())));
            await("the worker process exits", () -> server.workers(id).isEmpty());
        }
    }

    @Test
    void twoJobsRunAtOnceEachInItsWorkerAndTheSameRecipeMakesTheSameModel() throws Exception {
        try (PackagedServer.Connection connection = server.connect()) {
            Iterator<JobEvent> first = train(connection, recipe("twin-a", 3));
            Iterator<JobEvent> second = train(connection, recipe("twin-b", 3));
            String a = first.next().getJobId();
            String b = second.next().getJobId();
            List<JobEvent> endA = rest(first);
            List<JobEvent> endB = rest(second);
            assertTrue(endA.get(endA.size() - 1).hasFinished(), endA.toString());
            assertTrue(endB.get(endB.size() - 1).hasFinished(), endB.toString());

            Job jobA = job(connection, a);
            Job jobB = job(connection, b);
            // Both ran at once: each started before the other ended.
            assertTrue(Timestamps.compare(jobA.getStarted(), jobB.getEnded()) < 0
                    && Timestamps.compare(jobB.getStarted(), jobA.getEnded()) < 0, jobA + "\n" + jobB);
            assertArrayEquals(Files.readAllBytes(modelFile(jobA.getModel())), Files.readAllBytes(modelFile(jobB.getModel())),
                    "the same recipe and seed make the same model, whatever runs beside it");
            assertEquals(jobA.getEpochsList().stream().map(e -> e.getValidationAccuracy()).toList(),
                    jobB.getEpochsList().stream().map(e -> e.getValidationAccuracy()).toList());
        }
    }

    @Test
    void cancelJobStopsTheWorkerProcess() throws Exception {
        try (PackagedServer.Connection connection = server.connect()) {
            Iterator<JobEvent> stream = train(connection, recipe("cancelled", 50));
            String id = untilFirstEpoch(stream).get(0).getJobId();
            assertEquals(1, server.workers(id).size());
            connection.training.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
            List<JobEvent> rest = rest(stream);
            assertTrue(rest.get(rest.size() - 1).hasCancelled(), rest.toString());
            assertEquals(JobState.JOB_STATE_CANCELLED, job(connection, id).getState());
            await("the cancelled job's worker exits", () -> server.workers(id).isEmpty());
            assertTrue(job(connection, id).getEpochsCount() < 50, "it stopped early");
        }
    }

    @Test
    void aWorkerKilledMidJobFailsItsJobWithHowItEndedAndTheServerServesOn() throws Exception {
        try (PackagedServer.Connection connection = server.connect()) {
            Iterator<JobEvent> stream = train(connection, recipe("killed", 50));
            String id = untilFirstEpoch(stream).get(0).getJobId();
            List<ProcessHandle> workers = server.workers(id);
            assertEquals(1, workers.size());
            workers.get(0).destroyForcibly(); // SIGKILL, as a libtorch crash or the OOM killer would end it
            List<JobEvent> rest = rest(stream);
            JobEvent last = rest.get(rest.size() - 1);
            assertTrue(last.hasFailed(), rest.toString());
            assertTrue(last.getFailed().getMessage().contains("exit code 137 (killed by signal 9, SIGKILL)"),
                    last.getFailed().getMessage());
            Job job = job(connection, id);
            assertEquals(JobState.JOB_STATE_FAILED, job.getState());
            assertEquals(last.getFailed().getMessage(), job.getError());
            assertTrue(server.process().isAlive(), "the server outlives its worker");
            assertTrue(connection.training.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
                    .anyMatch(j -> j.getId().equals(id)));
            assertTrue(!Files.exists(JOBS.resolve(id)), "the failed job's checkpoints are deleted");
        }
    }
}
