package dev.distillery.kube;

import dev.distillery.jobs.WorkerExit;
import dev.distillery.jobs.WorkerHandle;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.jboss.logging.Logger;

/**
 * A worker running as a Kubernetes Job: alive until the Job has the condition {@code Complete} or
 * {@code Failed}. Its exit code is its container's, read from its pod once the Job has ended, with these
 * exceptions (see {@link WorkerExit}):
 * <ul>
 *   <li>a Job that failed for its deadline ({@code DeadlineExceeded}): {@link WorkerExit#DEADLINE_EXCEEDED},
 *       whatever the container said as it was stopped;
 *   <li>a failed Job without a container that ran (not scheduled, image not pulled):
 *       {@link WorkerExit#NOT_STARTED};
 *   <li>a Job deleted before it ended ({@link #terminate}, or anyone else): 137, as a process killed by SIGKILL.
 * </ul>
 */
final class KubernetesWorker implements WorkerHandle {

    private static final Logger LOG = Logger.getLogger(KubernetesWorker.class);
    /** Lines of a failed worker's log copied into control's log. */
    private static final int LOG_TAIL_LINES = 40;
    private static final int DELETED = 128 + 9;
    /** Pause before following the Job again after the API failed to answer. */
    private static final long RETRY_MILLIS = 5_000;

    private final KubernetesClient client;
    private final String name;
    private final String uid;
    private final String jobId;
    private final String container;

    KubernetesWorker(KubernetesClient client, Job job, String container) {
        this.client = client;
        this.name = job.getMetadata().getName();
        this.uid = job.getMetadata().getUid();
        this.jobId = job.getMetadata().getLabels().get(KubernetesLauncher.JOB_ID_LABEL);
        this.container = container;
    }

    @Override
    public String name() {
        return "worker Job " + name;
    }

    /** When the API does not answer, alive: the caller then terminates it, which is what a doubt calls for. */
    @Override
    public boolean alive() {
        try {
            Job job = client.batch().v1().jobs().withName(name).get();
            return job != null && uid.equals(job.getMetadata().getUid()) && ended(job).isEmpty();
        } catch (KubernetesClientException e) {
            LOG.warnf("cannot read the Kubernetes Job %s: %s", name, e.getMessage());
            return true;
        }
    }

    /** Deletes the Job (Background propagation: its pod goes too) and the run's Secret. */
    @Override
    public void terminate() {
        client.batch().v1().jobs().withName(name).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
        client.secrets().withName(name).delete();
    }

    /** Follows the Job with an informer (a list, then a watch) until it has ended or is gone. */
    @Override
    public int awaitExit() throws InterruptedException {
        while (true) {
            CompletableFuture<List<Job>> end = client.batch().v1().jobs().withName(name).informOnCondition(jobs ->
                    jobs.isEmpty() || !uid.equals(jobs.get(0).getMetadata().getUid()) || ended(jobs.get(0)).isPresent());
            try {
                List<Job> last = end.get();
                return exitCode(last.isEmpty() || !uid.equals(last.get(0).getMetadata().getUid()) ? null : last.get(0));
            } catch (InterruptedException e) {
                end.cancel(true);
                throw e;
            } catch (ExecutionException e) {
                LOG.warnf("cannot follow the Kubernetes Job %s (%s); trying again", name, e.getCause().getMessage());
                Thread.sleep(RETRY_MILLIS);
            }
        }
    }

    private int exitCode(Job job) {
        if (job == null) {
            LOG.infof("the Kubernetes Job %s of job %s was deleted", name, jobId);
            return DELETED;
        }
        JobCondition end = ended(job).orElseThrow();
        if ("Failed".equals(end.getType()) && "DeadlineExceeded".equals(end.getReason())) {
            LOG.warnf("the Kubernetes Job %s of job %s ran past its deadline: %s", name, jobId, end.getMessage());
            return WorkerExit.DEADLINE_EXCEEDED.code();
        }
        Optional<Pod> pod = pod();
        Optional<ContainerStateTerminated> terminated = pod.flatMap(this::terminated);
        if (terminated.isEmpty()) {
            if ("Complete".equals(end.getType())) {
                return WorkerExit.SUCCEEDED.code();
            }
            LOG.warnf("the Kubernetes Job %s of job %s failed without a worker that ran: %s %s", name, jobId,
                    end.getReason(), Optional.ofNullable(end.getMessage()).orElse(""));
            return WorkerExit.NOT_STARTED.code();
        }
        int code = terminated.get().getExitCode();
        if (code != WorkerExit.SUCCEEDED.code()) {
            logTail(pod.get());
        }
        return code;
    }

    /** The Job's {@code Complete} or {@code Failed} condition, if it has ended. */
    static Optional<JobCondition> ended(Job job) {
        return Optional.ofNullable(job.getStatus()).map(s -> s.getConditions()).orElse(List.of()).stream()
                .filter(c -> "True".equals(c.getStatus()))
                .filter(c -> "Complete".equals(c.getType()) || "Failed".equals(c.getType()))
                .findFirst();
    }

    /** This Job's pod (backoffLimit 0: there is one at most), found by its label and its owner's uid. */
    private Optional<Pod> pod() {
        return client.pods().withLabel(KubernetesLauncher.JOB_ID_LABEL, jobId).list().getItems().stream()
                .filter(p -> Optional.ofNullable(p.getMetadata().getOwnerReferences()).orElse(List.of()).stream()
                        .anyMatch(owner -> uid.equals(owner.getUid())))
                .findFirst();
    }

    private Optional<ContainerStateTerminated> terminated(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus() == null ? List.of()
                : Optional.ofNullable(pod.getStatus().getContainerStatuses()).orElse(List.of());
        return statuses.stream().filter(s -> container.equals(s.getName()) && s.getState() != null)
                .map(s -> s.getState().getTerminated()).filter(t -> t != null && t.getExitCode() != null).findFirst();
    }

    /** Copies the end of a failed worker's log into control's, where the job's failure message sends a person. */
    private void logTail(Pod pod) {
        String podName = pod.getMetadata().getName();
        try {
            // One GET of pods/log: the client's getLog() first waits for the pod to be ready with a watch, a call
            // the Role does not grant, and a failed worker's pod is already done.
            String log = client.raw("/api/v1/namespaces/" + pod.getMetadata().getNamespace() + "/pods/" + podName
                    + "/log?container=" + container + "&tailLines=" + LOG_TAIL_LINES);
            if (log == null) {
                LOG.warnf("the worker pod %s of job %s has no log (gone already)", podName, jobId);
                return;
            }
            LOG.warnf("the last lines of the worker pod %s of job %s:%n%s", podName, jobId, log);
        } catch (KubernetesClientException e) {
            LOG.warnf("cannot read the log of the worker pod %s of job %s: %s", podName, jobId, e.getMessage());
        }
    }
}
