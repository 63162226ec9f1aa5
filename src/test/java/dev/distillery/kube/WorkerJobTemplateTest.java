package dev.distillery.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker template is checked once, with messages that name the setting, and each run's Job is made from it. */
class WorkerJobTemplateTest {

    static final String TEMPLATE = """
            apiVersion: batch/v1
            kind: Job
            metadata:
              labels:
                kueue.x-k8s.io/queue-name: training
            spec:
              backoffLimit: 3
              template:
                spec:
                  restartPolicy: OnFailure
                  nodeSelector:
                    nvidia.com/gpu.present: "true"
                  tolerations:
                    - key: nvidia.com/gpu
                      operator: Exists
                  containers:
                    - name: sidecar
                      image: busybox
                    - name: worker
                      image: distillery:test
                      env:
                        - name: DISTILLERY_STORE
                          value: /data/models
                        - name: DISTILLERY_WORKER_TOKEN
                          value: leaked
                      resources:
                        limits:
                          nvidia.com/gpu: "1"
            """;

    @TempDir
    Path dir;

    @Test
    void aRunsJobKeepsTheTemplateAndSetsTheRunsNameLabelsSettingsAndRetryPolicy() {
        WorkerJobTemplate template = WorkerJobTemplate.parse(TEMPLATE, "test", Optional.of("control:8080"));
        Job job = template.jobFor("abc", "distillery-worker-abc", KubernetesLauncher.labels("abc"), "distillery-worker-abc");
        assertEquals("distillery-worker-abc", job.getMetadata().getName());
        assertEquals("training", job.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"), "the template's labels stay");
        assertEquals("abc", job.getMetadata().getLabels().get("distillery.dev/job-id"));
        assertEquals("worker", job.getSpec().getTemplate().getMetadata().getLabels().get("app.kubernetes.io/component"));
        assertEquals(0, job.getSpec().getBackoffLimit(), "never retried");
        assertEquals("Never", job.getSpec().getTemplate().getSpec().getRestartPolicy());
        assertEquals(WorkerJobTemplate.DEFAULT_DEADLINE_SECONDS, job.getSpec().getActiveDeadlineSeconds());
        assertEquals((int) WorkerJobTemplate.DEFAULT_TTL_SECONDS, job.getSpec().getTtlSecondsAfterFinished());
        assertEquals("true", job.getSpec().getTemplate().getSpec().getNodeSelector().get("nvidia.com/gpu.present"));
        assertEquals("nvidia.com/gpu", job.getSpec().getTemplate().getSpec().getTolerations().get(0).getKey());
        Container worker = job.getSpec().getTemplate().getSpec().getContainers().get(1);
        assertEquals("1", worker.getResources().getLimits().get("nvidia.com/gpu").toString());
        Map<String, EnvVar> env = new java.util.HashMap<>();
        worker.getEnv().forEach(e -> env.put(e.getName(), e));
        assertEquals("/data/models", env.get("DISTILLERY_STORE").getValue());
        assertEquals("worker", env.get("DISTILLERY_ROLES").getValue());
        assertEquals("abc", env.get("DISTILLERY_WORKER_JOB").getValue());
        assertEquals("control:8080", env.get("DISTILLERY_CONTROL_ADDRESS").getValue(), "from the setting");
        assertNull(env.get("DISTILLERY_WORKER_TOKEN").getValue(), "the token is never in the Job");
        assertEquals("distillery-worker-abc", env.get("DISTILLERY_WORKER_TOKEN").getValueFrom().getSecretKeyRef().getName());
        assertEquals(1, worker.getEnv().stream().filter(e -> e.getName().equals("DISTILLERY_WORKER_TOKEN")).count());
        assertTrue(job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().isEmpty(),
                "the other container is left alone");
    }

    @Test
    void theTemplatesOwnDeadlineTtlAndControlAddressWin() {
        String own = TEMPLATE.replace("  backoffLimit: 3\n", "  backoffLimit: 3\n  activeDeadlineSeconds: 60\n  ttlSecondsAfterFinished: 5\n")
                .replace("value: leaked", "value: leaked\n            - name: DISTILLERY_CONTROL_ADDRESS\n              value: mine:8080");
        Job job = WorkerJobTemplate.parse(own, "test", Optional.of("control:8080")).jobFor("x", "n", Map.of(), "n");
        assertEquals(60L, job.getSpec().getActiveDeadlineSeconds());
        assertEquals(5, job.getSpec().getTtlSecondsAfterFinished());
        assertTrue(job.getSpec().getTemplate().getSpec().getContainers().get(1).getEnv().stream()
                .anyMatch(e -> e.getName().equals("DISTILLERY_CONTROL_ADDRESS") && "mine:8080".equals(e.getValue())));
    }

    @Test
    void aBadTemplateIsAClearErrorNamingTheSetting() throws Exception {
        assertRefused("not valid Kubernetes YAML", "kind: Job\nspec: [unclosed");
        assertRefused("must be one apiVersion: batch/v1, kind: Job; it holds v1 ConfigMap",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
        assertRefused("must be one apiVersion: batch/v1, kind: Job; it holds batch/v1beta1 Job",
                TEMPLATE.replace("batch/v1", "batch/v1beta1"));
        assertRefused("has no containers", "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec: {}\n");
        assertRefused("none is named 'worker'", TEMPLATE.replace("name: worker", "name: trainer"));
        IllegalArgumentException noAddress = assertThrows(IllegalArgumentException.class,
                () -> WorkerJobTemplate.parse(TEMPLATE, "test", Optional.empty()));
        assertTrue(noAddress.getMessage().contains("DISTILLERY_CONTROL_ADDRESS"), noAddress.getMessage());

        IllegalArgumentException unset = assertThrows(IllegalArgumentException.class,
                () -> WorkerJobTemplate.read(Optional.empty(), Optional.of("c:1")));
        assertTrue(unset.getMessage().contains("DISTILLERY_WORKER_TEMPLATE"), unset.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> WorkerJobTemplate.read(Optional.of(dir.resolve("absent.yaml")), Optional.of("c:1")));
        assertTrue(missing.getMessage().contains("cannot read the worker Job template"), missing.getMessage());
        Path file = Files.writeString(dir.resolve("worker-job.yaml"), TEMPLATE);
        assertEquals("worker", WorkerJobTemplate.read(Optional.of(file), Optional.of("c:1")).workerContainer());
    }

    private static void assertRefused(String expected, String yaml) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerJobTemplate.parse(yaml, "worker-job.yaml", Optional.of("control:8080")));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("distillery.jobs.kubernetes.template"),
                e.getMessage());
    }

    @Test
    void jobNamesAreDnsLabelsOfAtMost63Characters() {
        assertEquals("distillery-worker-1f0e6a2c-9b1d-4e8f-a7c3-2d5b8e9f0a1b",
                KubernetesLauncher.jobName("1f0e6a2c-9b1d-4e8f-a7c3-2d5b8e9f0a1b"));
        String cut = KubernetesLauncher.jobName("A_B".repeat(30));
        assertTrue(cut.length() <= 63 && cut.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"), cut);
    }
}
