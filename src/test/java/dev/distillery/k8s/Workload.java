package dev.distillery.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Every pod an overlay makes run: its Deployments' pods, the worker Job templates its ConfigMaps hold (the kubernetes
 * launcher makes Jobs from them) and the pods KServe makes from its ServingRuntimes.
 *
 * @param overlay the overlay's folder name
 * @param source what the pod comes from, e.g. "Deployment distillery-serve"
 * @param pod the pod's spec
 * @param podSecurity whether the source can carry pod-level settings (a ServingRuntime has containers and volumes
 *     only)
 * @param serves whether the pod answers requests (and so needs probes)
 */
record Workload(String overlay, String source, PodSpec pod, boolean podSecurity, boolean serves) {

    static List<Workload> of(String overlay) {
        List<Workload> pods = new ArrayList<>();
        for (Map<String, Object> object : Overlays.render(overlay)) {
            String name = StrictKubernetes.name(object);
            switch (String.valueOf(object.get("kind"))) {
                case "Deployment" -> pods.add(new Workload(overlay, "Deployment " + name,
                        ((Deployment) StrictKubernetes.parse(object)).getSpec().getTemplate().getSpec(), true, true));
                case "ConfigMap" -> jobTemplates((ConfigMap) StrictKubernetes.parse(object)).forEach((key, job) -> pods.add(
                        new Workload(overlay, "ConfigMap " + name + " " + key, job.getSpec().getTemplate().getSpec(), true,
                                false)));
                case "ServingRuntime" -> pods.add(new Workload(overlay, "ServingRuntime " + name,
                        servingRuntimePod(object), false, true));
                default -> {
                }
            }
        }
        return pods;
    }

    /** The entries of a ConfigMap that hold a batch/v1 Job, parsed strictly, by key. */
    static Map<String, Job> jobTemplates(ConfigMap configMap) {
        Map<String, Job> jobs = new LinkedHashMap<>();
        Optional.ofNullable(configMap.getData()).orElse(Map.of()).forEach((key, text) -> {
            Object document = new Load(LoadSettings.builder().build()).loadFromString(text);
            if (document instanceof Map<?, ?> map && "Job".equals(map.get("kind"))) {
                @SuppressWarnings("unchecked")
                Map<String, Object> job = (Map<String, Object>) map;
                jobs.put(key, (Job) StrictKubernetes.parse(job));
            }
        });
        return jobs;
    }

    /** The pod fields a ServingRuntime's spec carries (KServe's ServingRuntimePodSpec), read strictly. */
    @SuppressWarnings("unchecked")
    private static PodSpec servingRuntimePod(Map<String, Object> runtime) {
        Map<String, Object> spec = (Map<String, Object>) runtime.get("spec");
        Map<String, Object> pod = new LinkedHashMap<>();
        for (String field : List.of("containers", "volumes", "nodeSelector", "tolerations", "affinity")) {
            if (spec.containsKey(field)) {
                pod.put(field, spec.get(field));
            }
        }
        return StrictKubernetes.as(pod, PodSpec.class, "ServingRuntime " + StrictKubernetes.name(runtime));
    }

    /** Every container, init containers included. */
    List<Container> containers() {
        List<Container> all = new ArrayList<>(pod.getContainers());
        all.addAll(Optional.ofNullable(pod.getInitContainers()).orElse(List.of()));
        return all;
    }

    String where(Container container) {
        return overlay + ": " + source + ", container " + container.getName();
    }

    /** A container's env entry by name. */
    static Optional<EnvVar> env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst();
    }

    /** A container's plain value for an env name, if set as a literal. */
    static Optional<String> value(Container container, String name) {
        return env(container, name).map(EnvVar::getValue);
    }
}
