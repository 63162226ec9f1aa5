package dev.distillery.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The worker's batch/v1 Job as configuration gives it (image, resources, node selector, tolerations, volumes,
 * a Kueue queue label...), checked once at start, and the Job made from it for one run of one job. The
 * template keeps everything it sets, except what makes a run one run: the name, the labels that find it
 * again, the worker's settings and the retry policy.
 *
 * <ul>
 *   <li>{@code backoffLimit} 0 and {@code restartPolicy: Never}: a failed run is reported and stays failed;
 *       a second pod would run the job a second time behind control's back.
 *   <li>{@code activeDeadlineSeconds} and {@code ttlSecondsAfterFinished}: the template's, or
 *       {@value #DEFAULT_DEADLINE_SECONDS} s (a day) and {@value #DEFAULT_TTL_SECONDS} s (an hour) when it
 *       has none, so that neither a stuck run nor an ended Job stays forever.
 *   <li>The worker container (the one named {@code worker}, or the only one) gets {@code DISTILLERY_ROLES=worker},
 *       {@code DISTILLERY_WORKER_JOB}, {@code DISTILLERY_CONTROL_ADDRESS} (the template's, else the setting) and
 *       {@code DISTILLERY_WORKER_TOKEN} from the run's Secret, never the token itself.
 * </ul>
 */
public final class WorkerJobTemplate {

    static final long DEFAULT_DEADLINE_SECONDS = 86_400;
    static final long DEFAULT_TTL_SECONDS = 3_600;
    /** The key of the token in each run's Secret. */
    static final String TOKEN_KEY = "token";

    private static final Set<String> SET_PER_RUN = Set.of("DISTILLERY_ROLES", "DISTILLERY_WORKER_JOB",
            "DISTILLERY_CONTROL_ADDRESS", "DISTILLERY_WORKER_TOKEN");
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    private final Job template;
    private final String workerContainer;
    private final String controlAddress;

    private WorkerJobTemplate(Job template, String workerContainer, String controlAddress) {
        this.template = template;
        this.workerContainer = workerContainer;
        this.controlAddress = controlAddress;
    }

    /**
     * Reads and checks the template file.
     *
     * @param file the setting's value; empty when it is not set
     * @param controlAddress host:port of control's gRPC port for workers whose template does not set
     *     {@code DISTILLERY_CONTROL_ADDRESS}
     * @throws IllegalArgumentException saying what is missing or wrong, with the setting's name
     */
    public static WorkerJobTemplate read(Optional<Path> file, Optional<String> controlAddress) {
        Path path = file.orElseThrow(() -> new IllegalArgumentException(
                "the kubernetes launcher needs a worker Job template: set distillery.jobs.kubernetes.template "
                        + "(DISTILLERY_WORKER_TEMPLATE) to a batch/v1 Job YAML file (k8s/overlays/cluster/worker-job.yaml)"));
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new IllegalArgumentException(String.format("cannot read the worker Job template %s "
                    + "(distillery.jobs.kubernetes.template, DISTILLERY_WORKER_TEMPLATE): %s", path, e), e);
        }
        return parse(text, path.toString(), controlAddress);
    }

    /** Checks a template's text; {@code source} names it in messages. */
    static WorkerJobTemplate parse(String text, String source, Optional<String> controlAddress) {
        String where = "the worker Job template " + source + " (distillery.jobs.kubernetes.template)";
        Object parsed;
        try {
            parsed = YAML.unmarshal(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(where + " is not valid Kubernetes YAML: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Job job) || !"batch/v1".equals(job.getApiVersion())) {
            String found = parsed instanceof HasMetadata object ? object.getApiVersion() + " " + object.getKind()
                    : "no Kubernetes object";
            throw new IllegalArgumentException(where + " must be one apiVersion: batch/v1, kind: Job; it holds " + found);
        }
        PodTemplateSpec pod = job.getSpec() == null ? null : job.getSpec().getTemplate();
        List<Container> containers = pod == null || pod.getSpec() == null ? List.of() : pod.getSpec().getContainers();
        if (containers.isEmpty()) {
            throw new IllegalArgumentException(where + " has no containers under spec.template.spec.containers");
        }
        Container container = containers.size() == 1 ? containers.get(0) : containers.stream()
                .filter(c -> "worker".equals(c.getName())).findFirst().orElseThrow(() -> new IllegalArgumentException(
                        where + " has " + containers.size() + " containers and none is named 'worker': name the one "
                                + "that runs Distillery 'worker'"));
        Optional<String> own = Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals("DISTILLERY_CONTROL_ADDRESS") && e.getValue() != null && !e.getValue().isBlank())
                .map(EnvVar::getValue).findFirst();
        String address = own.or(() -> controlAddress.filter(a -> !a.isBlank())).orElseThrow(() -> new IllegalArgumentException(
                where + " sets no DISTILLERY_CONTROL_ADDRESS for the worker and distillery.jobs.kubernetes.control-address "
                        + "is not set: workers need control's gRPC address, e.g. distillery-control:8080"));
        return new WorkerJobTemplate(job, container.getName(), address);
    }

    /** The container that runs Distillery's worker role. */
    String workerContainer() {
        return workerContainer;
    }

    /**
     * The Job of one run: the template with the run's name and labels, the worker's settings and the token
     * from {@code secret}.
     */
    Job jobFor(String jobId, String name, Map<String, String> labels, String secret) {
        Job job = YAML.clone(template);
        ObjectMeta meta = Optional.ofNullable(job.getMetadata()).orElseGet(ObjectMeta::new);
        meta.setName(name);
        meta.setGenerateName(null);
        meta.setNamespace(null); // the client's namespace: control's own
        meta.setLabels(merged(meta.getLabels(), labels));
        job.setMetadata(meta);
        var spec = job.getSpec();
        spec.setBackoffLimit(0);
        spec.setActiveDeadlineSeconds(Optional.ofNullable(spec.getActiveDeadlineSeconds()).orElse(DEFAULT_DEADLINE_SECONDS));
        spec.setTtlSecondsAfterFinished(Optional.ofNullable(spec.getTtlSecondsAfterFinished()).map(Long::valueOf)
                .orElse(DEFAULT_TTL_SECONDS).intValue());
        PodTemplateSpec pod = spec.getTemplate();
        ObjectMeta podMeta = Optional.ofNullable(pod.getMetadata()).orElseGet(ObjectMeta::new);
        podMeta.setLabels(merged(podMeta.getLabels(), labels));
        pod.setMetadata(podMeta);
        pod.getSpec().setRestartPolicy("Never");
        Container container = pod.getSpec().getContainers().stream()
                .filter(c -> workerContainer.equals(c.getName())).findFirst().orElseThrow();
        List<EnvVar> env = new ArrayList<>(Optional.ofNullable(container.getEnv()).orElse(List.of()));
        env.removeIf(e -> SET_PER_RUN.contains(e.getName()));
        env.add(new EnvVar("DISTILLERY_ROLES", "worker", null));
        env.add(new EnvVar("DISTILLERY_WORKER_JOB", jobId, null));
        env.add(new EnvVar("DISTILLERY_CONTROL_ADDRESS", controlAddress, null));
        env.add(new EnvVarBuilder().withName("DISTILLERY_WORKER_TOKEN").withNewValueFrom()
                .withNewSecretKeyRef(TOKEN_KEY, secret, false).endValueFrom().build());
        container.setEnv(env);
        return job;
    }

    private static Map<String, String> merged(Map<String, String> own, Map<String, String> added) {
        Map<String, String> labels = new HashMap<>(Optional.ofNullable(own).orElse(Map.of()));
        labels.putAll(added);
        return labels;
    }
}
