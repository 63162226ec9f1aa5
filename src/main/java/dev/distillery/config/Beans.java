package dev.distillery.config;

import dev.distillery.api.CallPlacement;
import dev.distillery.data.DatasetConfig;
import dev.distillery.data.Datasets;
import dev.distillery.distill.DistillationRun;
import dev.distillery.distill.Recipes;
import dev.distillery.eval.Evaluator;
import dev.distillery.jobs.ControlChannel;
import dev.distillery.jobs.CpuPriority;
import dev.distillery.jobs.InProcessLauncher;
import dev.distillery.jobs.JobLauncher;
import dev.distillery.jobs.JobManager;
import dev.distillery.jobs.ProcessLauncher;
import dev.distillery.kube.KubernetesLauncher;
import dev.distillery.kube.WorkerJobTemplate;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.serve.Batching;
import dev.distillery.serve.ModelRepository;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.OnnxModelCheck;
import dev.distillery.serve.OnnxRuntime;
import dev.distillery.serve.Predictor;
import dev.distillery.serve.ServingMetrics;
import dev.distillery.serve.ServingOptions;
import dev.distillery.serve.StoreWatcher;
import dev.distillery.serve.VersionPolicies;
import dev.distillery.serve.oip.InferenceProtocol;
import dev.distillery.store.ModelStore;
import dev.distillery.store.S3Bucket;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Wires the plain-Java services together from configuration. Everything below the gRPC adapters is
 * constructed here and nowhere else, so it stays testable without Quarkus.
 */
public class Beans {

    @Produces
    @Singleton
    Roles roles(DistilleryConfig config) {
        return Roles.parse(config.roles());
    }

    @Produces
    @Singleton
    @Startup
    ModelStore store(DistilleryConfig config, Roles roles) {
        DistilleryConfig.Store store = config.store();
        return switch (store.type()) {
            // A serve replica only reads the store.
            case "filesystem" -> ModelStore.onDisk(store.root(), roles.holds(Roles.Role.CONTROL) || roles.holds(Roles.Role.WORKER));
            case "s3" -> ModelStore.inBucket(new S3Bucket(new S3Bucket.Settings(store.s3().bucket().orElse(""),
                    store.s3().endpoint(), store.s3().region(), store.s3().prefix().orElse(""))), store.root());
            default -> throw new IllegalArgumentException("distillery.store.type (DISTILLERY_STORE_TYPE): unknown store '"
                    + store.type() + "'; stores are filesystem and s3");
        };
    }

    @Produces
    @Singleton
    @Startup
    OnnxRuntime onnxRuntime(DistilleryConfig config) {
        return new OnnxRuntime(config.serving().provider(), config.serving().intraOpThreads());
    }

    @Produces
    @Singleton
    ModelSessions sessions(ModelStore store, OnnxRuntime runtime, DistilleryConfig config, ServingOptions serving) {
        Map<String, String> versions = new TreeMap<>();
        config.serving().models().forEach((name, model) -> model.versions().ifPresent(v -> versions.put(name, v)));
        return new ModelSessions(store, runtime, VersionPolicies.parse(config.serving().defaults().versions(), versions),
                serving);
    }

    /** Batching per model (each model's own settings over the defaults, checked now) and the metrics registry. */
    @Produces
    @Singleton
    ServingOptions serving(DistilleryConfig distillery, MeterRegistry registry) {
        DistilleryConfig.Serving config = distillery.serving();
        DistilleryConfig.BatchingDefaults defaults = config.defaults().batching();
        Batching batching = checked("distillery.serving.defaults.", () -> new Batching(defaults.enabled(),
                defaults.preferredBatchSizes().orElse(List.of()), defaults.maxBatchSize(),
                defaults.maxQueueDelayMicroseconds(), defaults.maxQueueSize()));
        Map<String, Batching> byModel = new HashMap<>();
        config.models().forEach((name, model) -> {
            DistilleryConfig.BatchingOverrides own = model.batching();
            byModel.put(name, checked("distillery.serving.models.\"" + name + "\".", () -> new Batching(
                    own.enabled().orElse(batching.enabled()),
                    own.preferredBatchSizes().orElse(batching.preferredBatchSizes()),
                    own.maxBatchSize().orElse(batching.maxBatchSize()),
                    own.maxQueueDelayMicroseconds().orElse(batching.maxQueueDelayMicroseconds()),
                    own.maxQueueSize().orElse(batching.maxQueueSize()))));
        });
        return new ServingOptions(batching, byModel, new ServingMetrics(registry));
    }

    /** A bad value stops the start, with the full name of the setting. */
    private static Batching checked(String prefix, Supplier<Batching> batching) {
        try {
            return batching.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(prefix + e.getMessage(), e);
        }
    }

    void close(@Disposes ModelSessions sessions) {
        sessions.close();
    }

    @Produces
    @Singleton
    @Startup
    StoreWatcher watcher(ModelSessions sessions, DistilleryConfig config, Roles roles) {
        // A worker serves nothing: it only loads the teacher it was given.
        return StoreWatcher.start(sessions, roles.holds(Roles.Role.WORKER) ? Duration.ZERO : config.serving().pollInterval());
    }

    void close(@Disposes StoreWatcher watcher) throws InterruptedException {
        watcher.close();
    }

    /**
     * Quarkus' worker pool takes the calls that do not run on the event loop; a model whose batcher waits for
     * batches never runs there.
     */
    @Produces
    @Singleton
    CallPlacement callPlacement(DistilleryConfig config, ServingOptions serving) {
        return new CallPlacement(TimeUnit.MICROSECONDS.toNanos(config.serving().inlineLimitMicroseconds()),
                Infrastructure.getDefaultWorkerPool(), model -> !serving.batching(model).waits());
    }

    @Produces
    @Singleton
    Predictor predictor(ModelSessions sessions, DistilleryConfig config) {
        return new Predictor(sessions, config.serving().maxBatch(), config.serving().maxImagePixels());
    }

    @Produces
    @Singleton
    InferenceProtocol inferenceProtocol(ModelStore store, ModelSessions sessions, Predictor predictor,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown") String version) {
        return new InferenceProtocol(store, sessions, predictor, version);
    }

    @Produces
    @Singleton
    Datasets datasets(DistilleryConfig config) {
        return new Datasets(config.datasets().entrySet().stream()
                .map(e -> new DatasetConfig(e.getKey(), e.getValue().format(), e.getValue().directory(),
                        e.getValue().labels().orElse(List.of()), e.getValue().unlabelledDirectory(),
                        e.getValue().cifarLabels()))
                .toList());
    }

    @Produces
    @Singleton
    Evaluator evaluator(ModelSessions sessions, Predictor predictor, Datasets datasets) {
        return new Evaluator(sessions, predictor, datasets);
    }

    @Produces
    @Singleton
    ArchitectureCatalogue catalogue() {
        return ArchitectureCatalogue.standard();
    }

    @Produces
    @Singleton
    Recipes recipes(Datasets datasets, ModelStore store, ArchitectureCatalogue catalogue) {
        return new Recipes(datasets, store, catalogue);
    }

    /** What the worker role runs; in the control role only the in-process launcher uses it. */
    @Produces
    @Singleton
    DistillationRun distillationRun(DistilleryConfig config, Datasets datasets, ModelStore store, ModelSessions sessions,
            ArchitectureCatalogue catalogue) {
        return new DistillationRun(datasets, store, sessions, catalogue, config.training().device());
    }

    @Produces
    @Singleton
    JobLauncher launcher(DistilleryConfig config, Instance<KubernetesClient> kubernetes, Instance<DistillationRun> training) {
        return switch (config.jobs().launcher()) {
            case "process" -> new ProcessLauncher(ProcessLauncher.thisApplication(), Beans::controlAddress,
                    CpuPriority.parse(config.jobs().workerCpuPriority()));
            // The template is checked now: a missing or broken one stops the start.
            case "kubernetes" -> new KubernetesLauncher(kubernetes.get(), WorkerJobTemplate.read(
                    config.jobs().kubernetes().template(), config.jobs().kubernetes().controlAddress()));
            case "in-process" -> inProcess(config, training);
            default -> throw new IllegalArgumentException("distillery.jobs.launcher (DISTILLERY_JOB_LAUNCHER): unknown "
                    + "launcher '" + config.jobs().launcher() + "'; this build has: process, kubernetes, in-process");
        };
    }

    private static JobLauncher inProcess(DistilleryConfig config, Instance<DistillationRun> training) {
        InProcessLauncher.requireOneAtATime(config.jobs().maxRunning());
        return new InProcessLauncher(training::get, config.jobs().root(), config.worker().grace(),
                () -> ControlChannel.open(controlAddress(), config.worker().tlsCa()));
    }

    /**
     * This process's gRPC port as its own workers reach it, known once the server listens (a test's random port
     * is in the test-port setting by then).
     */
    private static String controlAddress() {
        String port = LaunchMode.current() == LaunchMode.TEST ? "quarkus.grpc.server.test-port" : "quarkus.grpc.server.port";
        return "localhost:" + ConfigProvider.getConfig().getValue(port, Integer.class);
    }

    /** Started (records read, unfinished jobs queued again) only in the control role. */
    @Produces
    @Singleton
    @Startup
    JobManager jobs(DistilleryConfig config, JobLauncher launcher, Roles roles, ModelStore store, ModelSessions sessions) {
        JobManager jobs = new JobManager(config.jobs().root(), launcher,
                new JobManager.Settings(config.jobs().maxRunning(), config.jobs().stopGrace()),
                finished -> sessions.publish(store.get(finished.getModel())));
        return roles.holds(Roles.Role.CONTROL) ? jobs.start() : jobs;
    }

    @Produces
    @Singleton
    ModelRepository repository(ModelStore store, ModelSessions sessions, OnnxRuntime runtime, JobManager jobs,
            DistilleryConfig config) {
        return new ModelRepository(store, sessions, new OnnxModelCheck(runtime, config.store().maxUploadBytes()), jobs);
    }

    void close(@Disposes JobManager jobs) throws InterruptedException {
        jobs.close();
    }
}
