package dev.distillery.kube;

import dev.distillery.jobs.JobLauncher;
import dev.distillery.jobs.WorkerHandle;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobState;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs each job's worker as a Kubernetes batch/v1 Job in control's own namespace, made from a
 * {@link WorkerJobTemplate}: one Job per run, named {@code distillery-worker-<job id>}, labelled
 * {@code app.kubernetes.io/name: distillery}, {@code app.kubernetes.io/component: worker} and
 * {@code distillery.dev/job-id: <job id>} (the Job and its pod).
 *
 * <p>The run's token goes into a Secret of the same name, which the worker reads as
 * {@code DISTILLERY_WORKER_TOKEN}: a Job's spec is readable by whoever may list Jobs. The Secret is made after
 * the Job, so that it can name the Job as its owner (uid included) and goes with it: no patch of the Secret,
 * no Secret left behind by a Job deleted elsewhere. Its pod may be scheduled before the Secret exists; the
 * kubelet then waits and starts the container once it does ({@code CreateContainerConfigError} is retried, not
 * a failure). The owner reference sets no {@code blockOwnerDeletion}, which would need a permission on the
 * Jobs' finalizers.
 *
 * <p>{@link #PERMISSIONS} lists every call this class and its workers make; control's Role
 * (k8s/overlays/cluster/rbac.yaml) grants exactly these.
 */
public final class KubernetesLauncher implements JobLauncher {

    private static final Logger LOG = Logger.getLogger(KubernetesLauncher.class);

    /** The Kubernetes API calls of the launcher, as {@code group/resource:verb} (the core group is empty). */
    public static final Set<String> PERMISSIONS = Set.of(
            "batch/jobs:create", "batch/jobs:get", "batch/jobs:list", "batch/jobs:watch", "batch/jobs:delete",
            "/secrets:create", "/secrets:delete",
            "/pods:list", "/pods/log:get");

    static final String NAME_LABEL = "app.kubernetes.io/name";
    static final String COMPONENT_LABEL = "app.kubernetes.io/component";
    static final String JOB_ID_LABEL = "distillery.dev/job-id";
    private static final Set<JobState> UNFINISHED = EnumSet.of(JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_RUNNING);
    /** How long a launch waits for an earlier run's Job of the same name to be gone. */
    private static final long LEFTOVER_WAIT_SECONDS = 60;

    private final KubernetesClient client;
    private final WorkerJobTemplate template;

    public KubernetesLauncher(KubernetesClient client, WorkerJobTemplate template) {
        this.client = client;
        this.template = template;
    }

    /** {@code distillery-worker-<id>}: lower case, letters, digits and '-', at most 63 characters (DNS-1123). */
    static String jobName(String jobId) {
        String name = ("distillery-worker-" + jobId.toLowerCase(Locale.ROOT)).replaceAll("[^a-z0-9-]", "-");
        name = name.substring(0, Math.min(name.length(), 63));
        return name.replaceAll("-+$", "");
    }

    static Map<String, String> labels(String jobId) {
        return Map.of(NAME_LABEL, "distillery", COMPONENT_LABEL, "worker", JOB_ID_LABEL, jobId);
    }

    @Override
    public WorkerHandle launch(Job job, String token) {
        String name = jobName(job.getId());
        if (remove(name)) {
            LOG.infof("job %s: deleted the Kubernetes Job %s of an earlier run", job.getId(), name);
        }
        var created = client.batch().v1().jobs()
                .resource(template.jobFor(job.getId(), name, labels(job.getId()), name)).create();
        try {
            client.secrets().resource(secret(created, token)).create();
        } catch (RuntimeException e) {
            client.batch().v1().jobs().withName(name).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
            throw e;
        }
        LOG.infof("job %s: created the Kubernetes Job %s", job.getId(), name);
        return new KubernetesWorker(client, created, template.workerContainer());
    }

    private static Secret secret(io.fabric8.kubernetes.api.model.batch.v1.Job owner, String token) {
        return new SecretBuilder()
                .withNewMetadata()
                    .withName(owner.getMetadata().getName())
                    .withLabels(owner.getMetadata().getLabels())
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("batch/v1").withKind("Job")
                            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).build())
                .endMetadata()
                .withType("Opaque")
                .withData(Map.of(WorkerJobTemplate.TOKEN_KEY,
                        Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8))))
                .build();
    }

    /**
     * A restarted control's view of the workers an earlier control left: every worker Job in the namespace is
     * deleted, with its Secret. One of a job that ended (or that no record knows) is an orphan; one of a job
     * about to run again lost its channel with the old control and gets a new worker and token, so there are
     * never two workers for one job. Nothing is launched before this returns.
     */
    @Override
    public void recover(Map<String, JobState> recorded) {
        List<io.fabric8.kubernetes.api.model.batch.v1.Job> found = client.batch().v1().jobs()
                .withLabel(NAME_LABEL, "distillery").withLabel(COMPONENT_LABEL, "worker").list().getItems();
        LOG.infof("found %d worker Job(s) of an earlier control", found.size());
        for (var job : found) {
            String name = job.getMetadata().getName();
            String id = Optional.ofNullable(job.getMetadata().getLabels()).map(l -> l.get(JOB_ID_LABEL)).orElse("");
            JobState state = recorded.get(id);
            String why = state == null ? "an orphan: no record of job '" + id + "'"
                    : UNFINISHED.contains(state) ? "the old worker of job " + id + ", which runs again with a new worker"
                    : "an orphan: job " + id + " has ended (" + state + ")";
            remove(name);
            LOG.infof("deleted the worker Job %s, %s", name, why);
        }
    }

    /**
     * Deletes a worker Job (its pod goes too) and its Secret, and waits until the Job is gone.
     *
     * @return whether there was a Job
     */
    private boolean remove(String name) {
        boolean found = !client.batch().v1().jobs().withName(name).withPropagationPolicy(DeletionPropagation.BACKGROUND)
                .withTimeout(LEFTOVER_WAIT_SECONDS, TimeUnit.SECONDS).delete().isEmpty();
        client.secrets().withName(name).delete();
        return found;
    }
}
