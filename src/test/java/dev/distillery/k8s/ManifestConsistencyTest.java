package dev.distillery.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.api.Health;
import dev.distillery.kube.KubernetesLauncher;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.eclipse.microprofile.health.Readiness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The manifests agree with the application: probes hit the paths and the port it serves, Services reach the pods'
 * port, every environment variable set is one the application (or a library it runs) reads, thread counts follow
 * the CPU limit, and control's Role allows exactly the Kubernetes calls the kubernetes launcher makes.
 */
class ManifestConsistencyTest {

    static final List<String> OVERLAYS = Overlays.ALL;
    static final List<String> CLUSTERS = List.of("cluster", "gpu");

    /** Variables read by what the application runs on, not by its configuration, and who reads each. */
    static final Map<String, String> READ_BY_LIBRARIES = Map.of(
            "JAVA_TOOL_OPTIONS", "the JVM (DJL's thread counts as system properties)",
            "OMP_NUM_THREADS", "libtorch's OpenMP pool",
            "ONEDNN_MAX_CPU_ISA", "oneDNN inside libtorch",
            "DJL_CACHE_DIR", "DJL (where libtorch unpacks)",
            "DJL_OFFLINE", "DJL (no downloads, no telemetry)",
            "AWS_ACCESS_KEY_ID", "the AWS SDK (the S3 store)",
            "AWS_SECRET_ACCESS_KEY", "the AWS SDK (the S3 store)");

    /**
     * What control's kubernetes launcher may do, and nothing more: group/resource:verb. KubernetesLauncherTest
     * checks that the launcher makes exactly these calls against the mock API server.
     */
    static final Set<String> CONTROL_PERMISSIONS = KubernetesLauncher.PERMISSIONS;

    @Test
    void theApplicationServesGrpcOnOnePortAndHealthAndMetricsOnAnother() {
        assertEquals("true", ApplicationSettings.properties().getProperty("quarkus.grpc.server.use-separate-server"),
                "the manifests expose gRPC and HTTP on ports of their own");
        assertNotEquals(ApplicationSettings.grpcPort(), ApplicationSettings.httpPort());
        assertTrue(Health.class.isAnnotationPresent(Readiness.class), "the readiness probe runs the store and ONNX Runtime check");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void probesHitThePathsAndPortTheApplicationServes(String overlay) {
        for (Workload workload : Workload.of(overlay)) {
            for (Container container : workload.pod().getContainers()) {
                String where = workload.where(container);
                if (!workload.serves()) {
                    assertNull(container.getReadinessProbe(), where + ": a worker serves nothing to probe");
                    continue;
                }
                // The HTTP port may go undeclared (Knative routes one declared port); the probes name it below.
                assertTrue(container.getPorts().stream().anyMatch(p -> p.getContainerPort() == ApplicationSettings.grpcPort()),
                        where + ": does not declare the gRPC port " + ApplicationSettings.grpcPort());
                boolean tls = Workload.env(container, "DISTILLERY_TLS_CERT").isPresent();
                assertNotNull(container.getReadinessProbe(), where + ": no readiness probe");
                assertNotNull(container.getLivenessProbe(), where + ": no liveness probe");
                assertProbe(container, container.getReadinessProbe(), ApplicationSettings.readinessPath(), tls, where);
                assertProbe(container, container.getLivenessProbe(), ApplicationSettings.livenessPath(), tls, where);
                if (container.getStartupProbe() != null) {
                    assertProbe(container, container.getStartupProbe(), ApplicationSettings.startupPath(), tls, where);
                }
            }
        }
    }

    /** An HTTP probe (the kubelet's gRPC probe cannot speak TLS) on the application's HTTP port and path. */
    private static void assertProbe(Container container, Probe probe, String path, boolean tls, String where) {
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, where + ": probes over HTTP, as the port may speak TLS");
        assertEquals(path, get.getPath(), where);
        assertEquals(ApplicationSettings.httpPort(), port(container, get.getPort(), where), where + ": probe port");
        assertEquals(tls ? "HTTPS" : "HTTP", Optional.ofNullable(get.getScheme()).orElse("HTTP"),
                where + ": probe scheme with TLS " + (tls ? "on" : "off"));
    }

    /** A port given by number or by the name of one of the container's ports. */
    private static int port(Container container, IntOrString port, String where) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return container.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName()))
                .map(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new AssertionError(where + ": no port named " + port.getStrVal()));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void servicesAutoscalersAndBudgetsReachThePods(String overlay) {
        List<Deployment> deployments = deployments(overlay);
        for (Map<String, Object> object : Overlays.objects(overlay, "Service")) {
            Service service = (Service) StrictKubernetes.parse(object);
            String where = overlay + ": Service " + service.getMetadata().getName();
            List<Deployment> selected = selected(deployments, service.getSpec().getSelector());
            assertFalse(selected.isEmpty(), where + " selects no pods");
            for (ServicePort port : service.getSpec().getPorts()) {
                for (Deployment deployment : selected) {
                    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
                    int expected = switch (port.getName()) {
                        case "grpc" -> ApplicationSettings.grpcPort();
                        case "http" -> ApplicationSettings.httpPort();
                        default -> throw new AssertionError(where + ": port " + port.getName() + " is neither grpc nor http");
                    };
                    assertEquals(expected, port(container, port.getTargetPort(), where), where + ": port " + port.getName());
                }
            }
            Map<String, String> annotations = Optional.ofNullable(service.getMetadata().getAnnotations()).orElse(Map.of());
            if ("true".equals(annotations.get("prometheus.io/scrape"))) {
                assertEquals(ApplicationSettings.metricsPath(), annotations.get("prometheus.io/path"), where);
                assertEquals(String.valueOf(ApplicationSettings.httpPort()), annotations.get("prometheus.io/port"), where);
                boolean tls = selected.stream().anyMatch(d -> Workload.env(container(d), "DISTILLERY_TLS_CERT").isPresent());
                assertEquals(tls ? "https" : null, annotations.get("prometheus.io/scheme"), where + ": scrape scheme");
            }
        }
        for (Map<String, Object> object : Overlays.objects(overlay, "HorizontalPodAutoscaler")) {
            HorizontalPodAutoscaler autoscaler = (HorizontalPodAutoscaler) StrictKubernetes.parse(object);
            String target = autoscaler.getSpec().getScaleTargetRef().getName();
            assertTrue(deployments.stream().anyMatch(d -> d.getMetadata().getName().equals(target)),
                    overlay + ": the autoscaler scales " + target + ", which is not here");
        }
        for (Map<String, Object> object : Overlays.objects(overlay, "PodDisruptionBudget")) {
            PodDisruptionBudget budget = (PodDisruptionBudget) StrictKubernetes.parse(object);
            assertFalse(selected(deployments, budget.getSpec().getSelector().getMatchLabels()).isEmpty(),
                    overlay + ": the disruption budget selects no pods");
        }
    }

    @Test
    void theClusterScalesServingApartWithAHeadlessServiceForClientSideBalancing() {
        for (String overlay : CLUSTERS) {
            List<Deployment> deployments = deployments(overlay);
            Deployment serve = withRoles(deployments, "serve", overlay);
            Deployment control = withRoles(deployments, "control", overlay);
            assertEquals(1, control.getSpec().getReplicas(), overlay + ": one control (one job queue)");
            assertEquals("Recreate", control.getSpec().getStrategy().getType(), overlay + ": never two controls at once");
            assertEquals("kubernetes", Workload.value(container(control), "DISTILLERY_JOB_LAUNCHER").orElse(null), overlay);
            List<Service> serving = Overlays.objects(overlay, "Service").stream()
                    .map(o -> (Service) StrictKubernetes.parse(o))
                    .filter(s -> selected(List.of(serve), s.getSpec().getSelector()).size() == 1).toList();
            assertEquals(Set.of("None", "ClusterIP"), serving.stream()
                    .map(s -> Optional.ofNullable(s.getSpec().getClusterIP()).orElse("ClusterIP")).collect(Collectors.toSet()),
                    overlay + ": a headless Service and a plain one for the serving pods");
            assertTrue(serving.stream().allMatch(s -> selected(List.of(control), s.getSpec().getSelector()).isEmpty()),
                    overlay + ": the serving Services must not reach control");
            assertEquals(serve.getMetadata().getName(), Overlays.objects(overlay, "HorizontalPodAutoscaler").stream()
                    .map(o -> ((HorizontalPodAutoscaler) StrictKubernetes.parse(o)).getSpec().getScaleTargetRef().getName())
                    .findFirst().orElse(null), overlay + ": the autoscaler scales serving");
            assertEquals(1, Overlays.objects(overlay, "PodDisruptionBudget").size(), overlay + ": a disruption budget");
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyEnvironmentVariableIsOneTheApplicationOrItsLibrariesRead(String overlay) {
        Set<String> read = ApplicationSettings.environmentNames();
        for (Workload workload : Workload.of(overlay)) {
            for (Container container : workload.containers()) {
                String where = workload.where(container);
                for (String name : environment(overlay, container, where).keySet()) {
                    if (name.startsWith("DISTILLERY_")) {
                        assertTrue(read.contains(name),
                                where + " sets " + name + ", which the application does not read; it reads " + read);
                    } else {
                        assertTrue(READ_BY_LIBRARIES.containsKey(name), where + " sets " + name + ", which nothing reads "
                                + "(known: " + READ_BY_LIBRARIES.keySet() + ")");
                    }
                }
            }
        }
    }

    @Test
    void theEnvironmentCheckKnowsWhatTheApplicationReads() {
        Set<String> read = ApplicationSettings.environmentNames();
        // From application.properties' expressions, from the config mapping, and not a map's free-form keys.
        assertTrue(read.containsAll(List.of("DISTILLERY_STORE", "DISTILLERY_SERVING_THREADS", "DISTILLERY_PORT")), read::toString);
        assertTrue(read.containsAll(List.of("DISTILLERY_STORE_ROOT", "DISTILLERY_SERVING_INTRA_OP_THREADS",
                "DISTILLERY_SERVING_DEFAULTS_BATCHING_MAX_QUEUE_SIZE")), read::toString);
        assertFalse(read.stream().anyMatch(n -> n.startsWith("DISTILLERY_DATASETS")), read::toString);
        assertFalse(read.contains("DISTILLERY_THREADS"), "DISTILLERY_THREADS is the script's, not the server's");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void threadCountsFollowTheCpuLimit(String overlay) {
        for (Workload workload : Workload.of(overlay)) {
            for (Container container : workload.containers()) {
                String where = workload.where(container);
                for (String threads : List.of("OMP_NUM_THREADS", "DISTILLERY_SERVING_THREADS")) {
                    EnvVar env = Workload.env(container, threads).orElseThrow(() -> new AssertionError(where + ": no " + threads));
                    assertNotNull(env.getValueFrom(), where + ": " + threads + " is fixed, not the CPU limit");
                    var field = env.getValueFrom().getResourceFieldRef();
                    assertNotNull(field, where + ": " + threads + " is not taken from the container's resources");
                    assertEquals("limits.cpu", field.getResource(), where + ": " + threads);
                    assertEquals(container.getName(), Optional.ofNullable(field.getContainerName()).orElse(container.getName()),
                            where + ": " + threads + " follows another container's limit");
                    assertTrue(field.getDivisor() == null || field.getDivisor().getNumericalAmount().compareTo(BigDecimal.ONE) == 0,
                            where + ": " + threads + " must count whole cores");
                }
                List<String> names = container.getEnv().stream().map(EnvVar::getName).toList();
                String options = Workload.value(container, "JAVA_TOOL_OPTIONS").orElse("");
                assertTrue(options.contains("-Dai.djl.pytorch.num_threads=$(OMP_NUM_THREADS)"),
                        where + ": libtorch's intra-op threads must follow OMP_NUM_THREADS: " + options);
                // Kubernetes expands $(NAME) only from variables defined earlier in the list.
                assertTrue(names.indexOf("OMP_NUM_THREADS") < names.indexOf("JAVA_TOOL_OPTIONS"),
                        where + ": OMP_NUM_THREADS must come before JAVA_TOOL_OPTIONS");
                assertEquals("AVX2", Workload.value(container, "ONEDNN_MAX_CPU_ISA").orElse(null),
                        where + ": libtorch 2.5.1's AVX-512 convolutions are wrong on some CPUs (ConvolutionKernelTest)");
                assertEquals("true", Workload.value(container, "DJL_OFFLINE").orElse(null), where);
            }
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void onlyControlMayCallTheKubernetesApiAndOnlyForJobs(String overlay) {
        List<Role> roles = Overlays.objects(overlay, "Role").stream().map(o -> (Role) StrictKubernetes.parse(o)).toList();
        List<RoleBinding> bindings = Overlays.objects(overlay, "RoleBinding").stream()
                .map(o -> (RoleBinding) StrictKubernetes.parse(o)).toList();
        List<Workload> pods = Workload.of(overlay);
        if (!CLUSTERS.contains(overlay)) {
            assertTrue(roles.isEmpty() && bindings.isEmpty(), overlay + ": nothing here calls the Kubernetes API");
            pods.forEach(w -> assertNotEquals(Boolean.TRUE, w.pod().getAutomountServiceAccountToken(), overlay + ": " + w.source()));
            return;
        }
        assertEquals(1, roles.size(), overlay + ": one Role");
        Role role = roles.get(0);
        Set<String> granted = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            assertTrue(Optional.ofNullable(rule.getResourceNames()).orElse(List.of()).isEmpty(), overlay + ": resourceNames");
            assertTrue(Optional.ofNullable(rule.getNonResourceURLs()).orElse(List.of()).isEmpty(), overlay + ": nonResourceURLs");
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        granted.add(group + "/" + resource + ":" + verb);
                    }
                }
            }
        }
        assertEquals(new TreeSet<>(CONTROL_PERMISSIONS), granted, overlay + ": control's permissions");
        assertEquals(1, bindings.size(), overlay + ": one RoleBinding");
        RoleBinding binding = bindings.get(0);
        assertEquals("Role", binding.getRoleRef().getKind(), overlay + ": bound as a Role, in its namespace only");
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName(), overlay);
        assertEquals(1, binding.getSubjects().size(), overlay + ": one subject");
        Subject subject = binding.getSubjects().get(0);
        assertEquals("ServiceAccount", subject.getKind(), overlay);
        assertNull(subject.getNamespace(), overlay + ": the subject is in the overlay's own namespace");

        Deployment control = withRoles(deployments(overlay), "control", overlay);
        for (Workload workload : pods) {
            PodSpec pod = workload.pod();
            boolean isControl = workload.source().equals("Deployment " + control.getMetadata().getName());
            assertEquals(isControl, Boolean.TRUE.equals(pod.getAutomountServiceAccountToken()),
                    overlay + ": " + workload.source() + (isControl ? " needs" : " must not get") + " an API token");
            if (isControl) {
                assertEquals(subject.getName(), pod.getServiceAccountName(), overlay + ": control's service account");
            }
        }
    }

    @Test
    void controlMountsAWorkerTemplateThatRunsTheWorkerRoleFromTheSameImage() {
        for (String overlay : CLUSTERS) {
            Deployment control = withRoles(deployments(overlay), "control", overlay);
            Container container = container(control);
            Path template = Path.of(Workload.value(container, "DISTILLERY_WORKER_TEMPLATE")
                    .orElseThrow(() -> new AssertionError(overlay + ": control has no DISTILLERY_WORKER_TEMPLATE")));
            VolumeMount mount = container.getVolumeMounts().stream()
                    .filter(m -> Path.of(m.getMountPath()).equals(template.getParent())).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + ": nothing is mounted at " + template.getParent()));
            Volume volume = control.getSpec().getTemplate().getSpec().getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
            assertNotNull(volume.getConfigMap(), overlay + ": the worker template comes from a ConfigMap");
            ConfigMap configMap = configMap(overlay, volume.getConfigMap().getName());
            Job job = Workload.jobTemplates(configMap).get(template.getFileName().toString());
            assertNotNull(job, overlay + ": " + configMap.getMetadata().getName() + " holds no Job at "
                    + template.getFileName());
            assertEquals(0, job.getSpec().getBackoffLimit(), overlay + ": a failed run is not retried");
            assertNotNull(job.getSpec().getActiveDeadlineSeconds(), overlay + ": a deadline");
            assertNotNull(job.getSpec().getTtlSecondsAfterFinished(), overlay + ": a TTL after it ends");
            assertEquals("Never", job.getSpec().getTemplate().getSpec().getRestartPolicy(), overlay);
            Container worker = job.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertEquals("worker", Workload.value(worker, "DISTILLERY_ROLES").orElse(null), overlay);
            Set<String> images = deployments(overlay).stream().map(d -> container(d).getImage()).collect(Collectors.toSet());
            assertTrue(images.contains(worker.getImage()), overlay + ": the worker runs " + worker.getImage()
                    + ", which no Deployment runs " + images + ": set both when changing the registry");
            String address = Workload.value(worker, "DISTILLERY_CONTROL_ADDRESS").orElseThrow();
            Service controlService = Overlays.objects(overlay, "Service").stream().map(o -> (Service) StrictKubernetes.parse(o))
                    .filter(s -> s.getMetadata().getName().equals(address.substring(0, address.indexOf(':')))).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + ": no Service named by " + address));
            assertEquals(1, selected(List.of(control), controlService.getSpec().getSelector()).size(),
                    overlay + ": " + address + " does not reach control");
            assertEquals(String.valueOf(ApplicationSettings.grpcPort()), address.substring(address.indexOf(':') + 1), overlay);
        }
    }

    /** A job resumed by a new worker finds its checkpoints: control and every worker mount one ReadWriteMany claim. */
    @Test
    void controlAndTheWorkersShareTheJobsFolderOnOneReadWriteManyVolume() {
        for (String overlay : CLUSTERS) {
            Deployment control = withRoles(deployments(overlay), "control", overlay);
            List<Workload> sharing = Workload.of(overlay).stream().filter(w -> !w.serves()
                    || w.source().equals("Deployment " + control.getMetadata().getName())).toList();
            assertEquals(2, sharing.size(), overlay + ": control and the worker template");
            for (Workload workload : sharing) {
                Container container = workload.pod().getContainers().get(0);
                String where = workload.where(container);
                String jobs = Workload.value(container, "DISTILLERY_JOBS").orElseThrow(() -> new AssertionError(where));
                VolumeMount mount = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(jobs))
                        .findFirst().orElseThrow(() -> new AssertionError(where + ": nothing is mounted at " + jobs));
                Volume volume = workload.pod().getVolumes().stream().filter(v -> v.getName().equals(mount.getName()))
                        .findFirst().orElseThrow();
                assertNotNull(volume.getPersistentVolumeClaim(), where + ": " + jobs + " must be the shared claim");
                assertEquals("distillery-jobs", volume.getPersistentVolumeClaim().getClaimName(), where);
            }
            Map<String, Object> claim = Overlays.objects(overlay, "PersistentVolumeClaim").stream()
                    .filter(o -> "distillery-jobs".equals(StrictKubernetes.name(o))).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + ": no PersistentVolumeClaim distillery-jobs"));
            assertEquals(List.of("ReadWriteMany"), ((io.fabric8.kubernetes.api.model.PersistentVolumeClaim)
                    StrictKubernetes.parse(claim)).getSpec().getAccessModes(), overlay);
        }
    }

    /** The worker trusts the CA of control's TLS certificate, and gets nothing else of its Secret. */
    @Test
    void workersTrustControlsCertificateAuthority() {
        for (String overlay : CLUSTERS) {
            for (Workload workload : Workload.of(overlay).stream().filter(w -> !w.serves()).toList()) {
                Container container = workload.pod().getContainers().get(0);
                String where = workload.where(container);
                Path ca = Path.of(Workload.value(container, "DISTILLERY_CONTROL_CA")
                        .orElseThrow(() -> new AssertionError(where + ": no DISTILLERY_CONTROL_CA")));
                VolumeMount mount = container.getVolumeMounts().stream()
                        .filter(m -> Path.of(m.getMountPath()).equals(ca.getParent())).findFirst()
                        .orElseThrow(() -> new AssertionError(where + ": nothing is mounted at " + ca.getParent()));
                Volume volume = workload.pod().getVolumes().stream().filter(v -> v.getName().equals(mount.getName()))
                        .findFirst().orElseThrow();
                assertEquals("distillery-tls", volume.getSecret().getSecretName(), where);
                assertEquals(List.of("ca.crt"), volume.getSecret().getItems().stream().map(i -> i.getKey()).toList(),
                        where + ": the CA only, not control's key");
                assertEquals(ca.getFileName().toString(), volume.getSecret().getItems().get(0).getPath(), where);
            }
        }
    }

    @Test
    void theClusterTurnsAccessControlAndTlsOnAndTheTrialLeavesThemOff() {
        for (String overlay : CLUSTERS) {
            for (Deployment deployment : deployments(overlay)) {
                Container container = container(deployment);
                String where = overlay + ": " + deployment.getMetadata().getName();
                assertEquals("true", Workload.value(container, "DISTILLERY_AUTH").orElse(null), where);
                PodSpec pod = deployment.getSpec().getTemplate().getSpec();
                assertFromSecret(pod, container, Workload.value(container, "DISTILLERY_TOKENS").orElseThrow(), where);
                for (String file : List.of("DISTILLERY_TLS_CERT", "DISTILLERY_TLS_KEY")) {
                    Path path = Path.of(Workload.value(container, file).orElseThrow(() -> new AssertionError(where + ": " + file)));
                    assertFromSecret(pod, container, path.getParent().toString(), where + " " + file);
                }
            }
        }
        for (Deployment deployment : deployments("single")) {
            assertEquals("false", Workload.value(container(deployment), "DISTILLERY_AUTH").orElse(null), "single: a trial");
        }
    }

    private static void assertFromSecret(PodSpec pod, Container container, String folder, String where) {
        VolumeMount mount = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(folder)).findFirst()
                .orElseThrow(() -> new AssertionError(where + ": nothing is mounted at " + folder));
        assertEquals(Boolean.TRUE, mount.getReadOnly(), where + ": " + folder + " read-only");
        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        assertNotNull(volume.getSecret(), where + ": " + folder + " must come from a Secret");
    }

    @Test
    void everyClusterPodSharesTheS3Store() {
        for (String overlay : CLUSTERS) {
            for (Workload workload : Workload.of(overlay)) {
                for (Container container : workload.containers()) {
                    String where = workload.where(container);
                    Map<String, String> env = environment(overlay, container, where);
                    assertEquals("s3", env.get("DISTILLERY_STORE_TYPE"), where);
                    for (String name : List.of("DISTILLERY_S3_BUCKET", "DISTILLERY_S3_ENDPOINT")) {
                        assertTrue(env.containsKey(name), where + ": " + name);
                    }
                    for (String name : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")) {
                        EnvVar credential = Workload.env(container, name).orElseThrow(() -> new AssertionError(where + ": " + name));
                        assertNull(credential.getValue(), where + ": " + name + " written into the manifest");
                        assertNotNull(credential.getValueFrom().getSecretKeyRef(), where + ": " + name + " from a Secret");
                    }
                }
            }
        }
    }

    @Test
    void theGpuOverlayPutsGpuContainersOnGpuNodesWithTheGpuImageAndProviders() {
        int gpuContainers = 0;
        for (String overlay : OVERLAYS) {
            for (Workload workload : Workload.of(overlay)) {
                for (Container container : workload.containers()) {
                    String where = workload.where(container);
                    boolean gpu = Optional.ofNullable(container.getResources().getLimits()).orElse(Map.of())
                            .containsKey("nvidia.com/gpu");
                    assertEquals(gpu, container.getImage().endsWith("-gpu"), where + ": the gpu image goes with a GPU limit");
                    if (!gpu) {
                        continue;
                    }
                    gpuContainers++;
                    assertEquals("gpu", overlay, where);
                    String role = Workload.value(container, "DISTILLERY_ROLES").orElse("");
                    assertEquals("cuda", Workload.value(container, "DISTILLERY_SERVING_PROVIDER").orElse(null), where);
                    if (role.equals("worker")) {
                        assertEquals("gpu", Workload.value(container, "DISTILLERY_TRAINING_DEVICE").orElse(null), where);
                    }
                    PodSpec pod = workload.pod();
                    assertTrue(Optional.ofNullable(pod.getNodeSelector()).orElse(Map.of()).keySet().stream()
                            .anyMatch(k -> k.startsWith("nvidia.com/")), where + ": a node selector for GPU nodes");
                    assertTrue(Optional.ofNullable(pod.getTolerations()).orElse(List.of()).stream()
                            .anyMatch(t -> "nvidia.com/gpu".equals(t.getKey())), where + ": a toleration of GPU nodes' taint");
                }
            }
        }
        assertEquals(2, gpuContainers, "the gpu overlay's serving pods and workers");
    }

    @Test
    void theKserveRuntimeServesTheOpenInferenceProtocolOverGrpcOnAnH2cPort() {
        GenericKubernetesResource runtime = single("kserve", "ServingRuntime");
        GenericKubernetesResource service = single("kserve", "InferenceService");
        Map<String, Object> spec = map(runtime.getAdditionalProperties().get("spec"));
        assertKnownFields(spec, Set.of("annotations", "supportedModelFormats", "protocolVersions", "containers", "volumes",
                "multiModel", "disabled", "nodeSelector", "tolerations", "affinity"), "ServingRuntime spec");
        Container container = StrictKubernetes.as(list(spec.get("containers")).get(0), Container.class, "runtime container");
        assertEquals("kserve-container", container.getName(), "the container KServe merges the predictor into");
        ContainerPort port = container.getPorts().get(0);
        assertEquals("h2c", port.getName(), "KServe routes gRPC to a port named h2c");
        assertEquals(ApplicationSettings.grpcPort(), port.getContainerPort());
        assertEquals(String.valueOf(ApplicationSettings.httpPort()), map(spec.get("annotations")).get("prometheus.kserve.io/port"));
        assertEquals(ApplicationSettings.httpPort(), container.getReadinessProbe().getHttpGet().getPort().getIntVal());
        assertTrue(list(spec.get("protocolVersions")).contains("grpc-v2"));
        assertEquals(ApplicationSettings.metricsPath(), map(spec.get("annotations")).get("prometheus.kserve.io/path"));
        assertEquals("serve", Workload.value(container, "DISTILLERY_ROLES").orElse(null));

        Map<String, Object> predictor = map(map(service.getAdditionalProperties().get("spec")).get("predictor"));
        Map<String, Object> model = map(predictor.get("model"));
        assertKnownFields(model, Set.of("modelFormat", "runtime", "protocolVersion", "storageUri", "resources"),
                "InferenceService predictor.model");
        assertEquals(runtime.getMetadata().getName(), model.get("runtime"));
        assertTrue(list(spec.get("supportedModelFormats")).stream().map(f -> map(f).get("name"))
                .anyMatch(map(model.get("modelFormat")).get("name")::equals), "the runtime supports the model's format");
        assertEquals("grpc-v2", model.get("protocolVersion"));
        assertTrue(String.valueOf(model.get("storageUri")).startsWith("s3://"), "the store's root in S3");
        StrictKubernetes.as(model.get("resources"), ResourceRequirements.class, "predictor resources");
        assertEquals(Workload.value(container, "DISTILLERY_STORE").orElse(null), "/mnt/models",
                "the server reads the store KServe's storage initializer copies");
    }

    private static void assertKnownFields(Map<String, Object> object, Set<String> known, String what) {
        Set<String> unknown = new TreeSet<>(object.keySet());
        unknown.removeAll(known);
        assertTrue(unknown.isEmpty(), what + " has fields this check does not know: " + unknown);
    }

    /** A container's environment: its own variables and those of the ConfigMaps it takes whole. */
    private static Map<String, String> environment(String overlay, Container container, String where) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource source : Optional.ofNullable(container.getEnvFrom()).orElse(List.of())) {
            assertNull(source.getSecretRef(), where + ": a whole Secret as variables hides their names from this check");
            assertNotNull(source.getConfigMapRef(), where);
            assertNull(source.getPrefix(), where + ": envFrom prefix");
            env.putAll(configMap(overlay, source.getConfigMapRef().getName()).getData());
        }
        container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
        return env;
    }

    private static ConfigMap configMap(String overlay, String name) {
        return Overlays.objects(overlay, "ConfigMap").stream().map(o -> (ConfigMap) StrictKubernetes.parse(o))
                .filter(c -> c.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": no ConfigMap " + name));
    }

    private static List<Deployment> deployments(String overlay) {
        return Overlays.objects(overlay, "Deployment").stream().map(o -> (Deployment) StrictKubernetes.parse(o)).toList();
    }

    private static Deployment withRoles(List<Deployment> deployments, String roles, String overlay) {
        List<Deployment> found = deployments.stream()
                .filter(d -> roles.equals(Workload.value(container(d), "DISTILLERY_ROLES").orElse(null))).toList();
        assertEquals(1, found.size(), overlay + ": one Deployment with DISTILLERY_ROLES=" + roles);
        return found.get(0);
    }

    private static List<Deployment> selected(List<Deployment> deployments, Map<String, String> selector) {
        assertFalse(selector == null || selector.isEmpty(), "an empty selector selects everything");
        return deployments.stream().filter(d -> d.getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(selector.entrySet())).toList();
    }

    private static Container container(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    private static GenericKubernetesResource single(String overlay, String kind) {
        List<Map<String, Object>> objects = Overlays.objects(overlay, kind);
        assertEquals(1, objects.size(), overlay + ": one " + kind);
        return (GenericKubernetesResource) StrictKubernetes.parse(objects.get(0));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertTrue(value instanceof Map, "expected an object, got " + value);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        assertTrue(value instanceof List, "expected a list, got " + value);
        return (List<Object>) value;
    }
}
