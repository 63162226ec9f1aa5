package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.JobRunner;
import dev.distillery.jobs.Worker;
import dev.distillery.jobs.WorkerExit;
import dev.distillery.kube.KubernetesLauncher;
import dev.distillery.kube.WorkerJobTemplate;
import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Finished;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubernetes launcher against fabric8's mock API server in CRUD mode. The test plays the cluster (it sets
 * the Jobs' status and makes their pods) and the worker: it reads the run's token from the Secret the launcher
 * made and runs the real {@link Worker} over the Workers gRPC service (an in-process channel), beside the
 * Training service clients call. Every call the launcher makes to the API is recorded: together the tests must
 * make exactly {@link KubernetesLauncher#PERMISSIONS}, the list control's Role is checked against.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesLauncherTest {

    /** The launcher's calls carry this user agent; the test's own (playing the cluster) do not. */
    private static final String LAUNCHER_AGENT = "distillery-control-under-test";
    private static final Set<String> CALLED = new ConcurrentSkipListSet<>();

    static KubernetesMockServer server;
    static KubernetesClient client;

    @TempDir
    Path root;
    private Path template;
    private KubernetesClient launcherClient;
    private JobManager jobs;
    private Server grpc;
    private ManagedChannel channel;
    private TrainingGrpc.TrainingBlockingStub training;
    private final List<Thread> workers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        template = Files.writeString(root.resolve("worker-job.yaml"), """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  labels:
                    kueue.x-k8s.io/queue-name: gpus
                spec:
                  ttlSecondsAfterFinished: 600
                  template:
                    spec:
                      nodeSelector:
                        nvidia.com/gpu.present: "true"
                      tolerations:
                        - key: nvidia.com/gpu
                          operator: Exists
                      containers:
                        - name: worker
                          image: distillery:test
                          env:
                            - name: DISTILLERY_CONTROL_ADDRESS
                              value: distillery-control:8080
                          resources:
                            limits:
                              cpu: "4"
                              nvidia.com/gpu: "1"
                """);
        Config config = new ConfigBuilder(client.getConfiguration()).withUserAgent(LAUNCHER_AGENT).build();
        launcherClient = new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Control: the job manager with the kubernetes launcher, and the Workers and Training services on it. */
    private void startControl(Path records) throws Exception {
        startControl(records, Duration.ofSeconds(60));
    }

    /** @param grace how long a worker asked to stop has before it is terminated */
    private void startControl(Path records, Duration grace) throws Exception {
        jobs = new JobManager(records, launcher(), new JobManager.Settings(1, grace), finished -> {}).start();
        WorkersGrpcService workersService = new WorkersGrpcService();
        workersService.jobs = jobs;
        TrainingGrpcService trainingService = new TrainingGrpcService();
        trainingService.jobs = jobs;
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(workersService).addService(trainingService).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        training = TrainingGrpc.newBlockingStub(channel);
    }

    private KubernetesLauncher launcher() {
        return new KubernetesLauncher(launcherClient, WorkerJobTemplate.read(Optional.of(template), Optional.empty()));
    }

    private void stopControl() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        grpc.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        jobs.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (jobs != null) {
            stopControl();
        }
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        }
        launcherClient.close();
        recordCalls();
        client.batch().v1().jobs().delete();
        client.secrets().delete();
        client.pods().delete();
    }

    /** The launcher's calls since the last time, as group/resource:verb; each must be one the Role grants. */
    private static void recordCalls() throws InterruptedException {
        Pattern path = Pattern.compile("/apis?/(?:([a-z.]+)/)?v1/namespaces/[^/]+/([a-z]+)(/[^/?]+)?(/[a-z]+)?(\\?.*)?");
        RecordedRequest request;
        while ((request = server.takeRequest(0, TimeUnit.SECONDS)) != null) {
            if (!LAUNCHER_AGENT.equals(request.getHeader("User-Agent"))) {
                continue;
            }
            Matcher m = path.matcher(request.getPath());
            assertTrue(m.matches(), "an API call this test cannot name: " + request.getMethod() + " " + request.getPath());
            String group = Optional.ofNullable(m.group(1)).orElse("");
            String resource = m.group(2) + Optional.ofNullable(m.group(4)).orElse("");
            boolean named = m.group(3) != null;
            String query = Optional.ofNullable(m.group(5)).orElse("");
            String verb = switch (request.getMethod()) {
                case "POST" -> "create";
                case "DELETE" -> named ? "delete" : "deletecollection";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                default -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
            };
            String permission = group + "/" + resource + ":" + verb;
            assertTrue(KubernetesLauncher.PERMISSIONS.contains(permission), "the launcher called " + permission
                    + " (" + request.getMethod() + " " + request.getPath() + "), which is not in its PERMISSIONS");
            CALLED.add(permission);
        }
    }

    /** Run as a whole, the tests make every call the launcher's list names: the list is not longer than needed. */
    @AfterAll
    static void everyListedPermissionIsUsed() {
        assertEquals(new TreeSet<>(KubernetesLauncher.PERMISSIONS), new TreeSet<>(CALLED),
                "the launcher's PERMISSIONS (and so control's Role) against the calls the tests saw it make");
    }

    private static String jobName(String id) {
        return "distillery-worker-" + id;
    }

    /** Waits for the Job of {@code id} to satisfy {@code condition}. */
    private static io.fabric8.kubernetes.api.model.batch.v1.Job kubeJob(String id,
            Predicate<io.fabric8.kubernetes.api.model.batch.v1.Job> condition) {
        return poll(() -> client.batch().v1().jobs().withName(jobName(id)).get(), j -> j != null && condition.test(j),
                "the Job of " + id);
    }

    private static void awaitGone(String id) {
        poll(() -> client.batch().v1().jobs().withName(jobName(id)).get(), Objects::isNull, "the Job of " + id + " deleted");
    }

    /**
     * Reads until {@code condition} holds, for at most a minute. A poll, not a watch: the mock API server's watches
     * do not replay what happened between their list and their watch, so a watch can miss a change for good.
     */
    private static <T> T poll(Supplier<T> read, Predicate<T> condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        for (T value = read.get(); ; value = read.get()) {
            if (condition.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited a minute for " + what + "; last seen: " + value);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static String token(String id) {
        Secret secret = poll(() -> client.secrets().withName(jobName(id)).get(), Objects::nonNull, "the Secret of " + id);
        return new String(Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8);
    }

    /** Plays the kubelet and the Job controller: the worker's pod ended with {@code exitCode} (none: never ran). */
    private static void jobEnded(io.fabric8.kubernetes.api.model.batch.v1.Job job, Integer exitCode, String type,
            String reason) {
        String id = job.getMetadata().getLabels().get("distillery.dev/job-id");
        if (exitCode != null) {
            client.pods().resource(new PodBuilder()
                    .withNewMetadata().withName(job.getMetadata().getName() + "-pod")
                        .withLabels(Map.of("distillery.dev/job-id", id))
                        .addNewOwnerReference().withApiVersion("batch/v1").withKind("Job")
                            .withName(job.getMetadata().getName()).withUid(job.getMetadata().getUid()).endOwnerReference()
                    .endMetadata()
                    .withNewSpec().addNewContainer().withName("worker").withImage("distillery:test").endContainer().endSpec()
                    .withNewStatus().addNewContainerStatus().withName("worker").withNewState().withNewTerminated()
                        .withExitCode(exitCode).endTerminated().endState().endContainerStatus().endStatus()
                    .build()).create();
        }
        client.batch().v1().jobs().withName(job.getMetadata().getName()).editStatus(j -> new JobBuilder(j)
                .editOrNewStatus().addNewCondition().withType(type).withStatus("True").withReason(reason)
                .withMessage(reason).endCondition().endStatus().build());
    }

    /** Runs the real worker on a thread, as the Job's pod would, with the token from the Secret. */
    private CompletableFuture<WorkerExit> work(String id, JobRunner runner) {
        CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
        String token = token(id);
        Thread thread = new Thread(() -> {
            try {
                exit.complete(new Worker(runner, root, Duration.ofSeconds(30), code -> {}).run(channel, id, token));
            } catch (Exception | Error e) {
                exit.completeExceptionally(e);
            }
        }, "test-worker-" + id);
        thread.setDaemon(true);
        thread.start();
        workers.add(thread);
        return exit;
    }

    private String submit(String model) {
        return jobs.submit(Recipe.newBuilder().setOutputModel(model).setEpochs(1).build());
    }

    private TrainingGrpc.TrainingBlockingStub training() {
        return training.withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** Follows the job with WatchJob until it ends, then asks GetJob how. */
    private Job awaitState(String id, JobState state) {
        training().watchJob(WatchJobRequest.newBuilder().setJobId(id).build()).forEachRemaining(event -> { });
        Job job = training().getJob(GetJobRequest.newBuilder().setJobId(id).build());
        assertEquals(state, job.getState(), job.toString());
        return job;
    }

    @Test
    void aJobRunsInAKubernetesJobWhoseWorkerReportsOverTheWorkersChannel() throws Exception {
        startControl(root.resolve("jobs"));
        String id = submit("student");
        var job = kubeJob(id, j -> true);
        Map<String, String> labels = Map.of("app.kubernetes.io/name", "distillery",
                "app.kubernetes.io/component", "worker", "distillery.dev/job-id", id);
        assertTrue(job.getMetadata().getLabels().entrySet().containsAll(labels.entrySet()), job.getMetadata().getLabels().toString());
        assertEquals("gpus", job.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
        var pod = job.getSpec().getTemplate();
        assertTrue(pod.getMetadata().getLabels().entrySet().containsAll(labels.entrySet()), pod.getMetadata().getLabels().toString());
        assertEquals(0, job.getSpec().getBackoffLimit());
        assertEquals("Never", pod.getSpec().getRestartPolicy());
        assertEquals(600, job.getSpec().getTtlSecondsAfterFinished(), "the template's");
        assertEquals(86_400L, job.getSpec().getActiveDeadlineSeconds(), "the default");
        assertEquals("true", pod.getSpec().getNodeSelector().get("nvidia.com/gpu.present"));
        assertEquals("nvidia.com/gpu", pod.getSpec().getTolerations().get(0).getKey());
        assertEquals("1", pod.getSpec().getContainers().get(0).getResources().getLimits().get("nvidia.com/gpu").toString());

        Secret secret = poll(() -> client.secrets().withName(jobName(id)).get(), Objects::nonNull, "the Secret of " + id);
        assertTrue(secret.getMetadata().getLabels().entrySet().containsAll(labels.entrySet()));
        assertEquals(job.getMetadata().getUid(), secret.getMetadata().getOwnerReferences().get(0).getUid(),
                "the Secret goes with its Job");
        String token = token(id);
        assertFalse(client.getKubernetesSerialization().asJson(job).contains(token), "the token is not in the Job");
        assertEquals(jobName(id), pod.getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("DISTILLERY_WORKER_TOKEN")).findFirst().orElseThrow()
                .getValueFrom().getSecretKeyRef().getName());

        CompletableFuture<WorkerExit> exit = work(id, (recipe, context) -> {
            context.stage("teacher", "training the teacher");
            context.epoch(EpochProgress.newBuilder().setEpoch(1).setEpochs(1).setTrainLoss(0.5f).build());
            return Finished.newBuilder().setModel(ModelRef.newBuilder().setName(recipe.getOutputModel()).setVersion(1)).build();
        });
        assertEquals(WorkerExit.SUCCEEDED, exit.get(60, TimeUnit.SECONDS));
        jobEnded(job, 0, "Complete", "Completed");
        Job ended = awaitState(id, JobState.JOB_STATE_SUCCEEDED);
        assertEquals("student", ended.getModel().getName());
        List<JobEvent> events = new ArrayList<>();
        training().watchJob(WatchJobRequest.newBuilder().setJobId(id).build()).forEachRemaining(events::add);
        assertTrue(events.stream().anyMatch(e -> e.hasStage() && e.getStage().getName().equals("teacher")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.hasEpoch() && e.getEpoch().getTrainLoss() == 0.5f), events.toString());
        assertTrue(events.get(events.size() - 1).hasFinished(), events.toString());
    }

    @Test
    void aWorkerJobThatFailsFailsTheJobSayingHow() throws Exception {
        startControl(root.resolve("jobs"));
        String killed = submit("killed");
        jobEnded(kubeJob(killed, j -> true), 137, "Failed", "BackoffLimitExceeded");
        String message = awaitState(killed, JobState.JOB_STATE_FAILED).getError();
        assertTrue(message.contains("worker Job " + jobName(killed)) && message.contains("exit code 137"), message);

        String late = submit("late");
        jobEnded(kubeJob(late, j -> true), 143, "Failed", "DeadlineExceeded");
        message = awaitState(late, JobState.JOB_STATE_FAILED).getError();
        assertTrue(message.contains("exit code 7") && message.contains("deadline"), message);

        String unscheduled = submit("unscheduled");
        jobEnded(kubeJob(unscheduled, j -> true), null, "Failed", "BackoffLimitExceeded");
        message = awaitState(unscheduled, JobState.JOB_STATE_FAILED).getError();
        assertTrue(message.contains("exit code 8") && message.contains("never started"), message);
    }

    /** The grace period is long: the Job is deleted because the job was cancelled, not because the worker was late. */
    @Test
    void cancelStopsTheWorkerAndThenDeletesItsJob() throws Exception {
        startControl(root.resolve("jobs"));
        String running = submit("running");
        var job = kubeJob(running, j -> true);
        CompletableFuture<WorkerExit> exit = work(running, (recipe, context) -> {
            context.stage("student", "training");
            while (!context.cancelled()) {
                Thread.sleep(10);
            }
            throw new CancellationException("cancelled");
        });
        Iterator<JobEvent> events = training().watchJob(WatchJobRequest.newBuilder().setJobId(running).build());
        while (!events.next().getStage().getName().equals("student")) {
            // until the worker has claimed the job and reported
        }
        training().cancelJob(CancelJobRequest.newBuilder().setJobId(running).build());
        assertEquals(WorkerExit.CANCELLED, exit.get(60, TimeUnit.SECONDS));
        jobEnded(job, WorkerExit.CANCELLED.code(), "Failed", "BackoffLimitExceeded"); // a non-zero exit fails a Job
        awaitState(running, JobState.JOB_STATE_CANCELLED);
        awaitGone(running);
    }

    @Test
    void aCancelledJobsWorkerThatNeverStartedIsDeletedAfterTheGracePeriod() throws Exception {
        startControl(root.resolve("jobs"), Duration.ofSeconds(1));
        String pending = submit("pending"); // its pod never runs
        kubeJob(pending, j -> true);
        training().cancelJob(CancelJobRequest.newBuilder().setJobId(pending).build());
        awaitState(pending, JobState.JOB_STATE_CANCELLED);
        awaitGone(pending);
        assertNull(client.secrets().withName(jobName(pending)).get(), "its Secret is deleted with it");
    }

    @Test
    void aRestartedControlDeletesTheJobsItFindsAndRunsTheUnfinishedJobWithANewWorker() throws Exception {
        Path records = Files.createDirectories(root.resolve("jobs"));
        KubernetesLauncher earlier = launcher();
        // What an earlier control left: a running job's worker, a finished job's, and one of a job with no record.
        for (String id : List.of("running", "finished", "unknown")) {
            earlier.launch(Job.newBuilder().setId(id).build(), "old-token-" + id);
        }
        record(records, Job.newBuilder().setId("running").setSequence(1).setState(JobState.JOB_STATE_RUNNING));
        record(records, Job.newBuilder().setId("finished").setSequence(2).setState(JobState.JOB_STATE_SUCCEEDED));
        String oldUid = client.batch().v1().jobs().withName(jobName("running")).get().getMetadata().getUid();

        startControl(records);
        var resumed = kubeJob("running", j -> !j.getMetadata().getUid().equals(oldUid));
        assertNotEquals("old-token-running", token("running"), "a new run, a new token");
        assertEquals(resumed.getMetadata().getUid(),
                client.secrets().withName(jobName("running")).get().getMetadata().getOwnerReferences().get(0).getUid());
        for (String orphan : List.of("finished", "unknown")) {
            assertNull(client.batch().v1().jobs().withName(jobName(orphan)).get(), orphan);
            assertNull(client.secrets().withName(jobName(orphan)).get(), orphan);
        }
        assertEquals(1, client.batch().v1().jobs().withLabel("app.kubernetes.io/component", "worker").list().getItems().size(),
                "one worker for the one unfinished job");
        Job job = jobs.get("running");
        assertEquals(1, job.getResumes());

        CompletableFuture<WorkerExit> exit = work("running", (recipe, context) ->
                Finished.newBuilder().setModel(ModelRef.newBuilder().setName("resumed").setVersion(1)).build());
        assertEquals(WorkerExit.SUCCEEDED, exit.get(60, TimeUnit.SECONDS));
        jobEnded(resumed, 0, "Complete", "Completed");
        awaitState("running", JobState.JOB_STATE_SUCCEEDED);
    }

    private static void record(Path records, Job.Builder job) throws Exception {
        job.setRecipe(Recipe.newBuilder().setOutputModel(job.getId()).setEpochs(1));
        Files.writeString(records.resolve(job.getId() + ".json"),
                JsonFormat.printer().preservingProtoFieldNames().print(job.build()));
    }
}
