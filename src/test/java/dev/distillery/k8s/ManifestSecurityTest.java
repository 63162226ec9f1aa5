package dev.distillery.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every container of every overlay (Deployments, worker Job templates, KServe runtimes) runs as the image's
 * non-root user on a read-only root filesystem, without privilege escalation or capabilities, under the runtime's
 * seccomp profile, with CPU and memory requests and limits, and with a writable volume wherever it writes.
 */
class ManifestSecurityTest {

    static final List<String> OVERLAYS = Overlays.ALL;

    /** KServe's storage initializer mounts the model copy here itself; the runtime does not declare it. */
    private static final String KSERVE_MODEL_MOUNT = "/mnt/models";

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyContainerRunsAsTheImagesNonRootUserWithNothingToEscalate(String overlay) {
        long uid = imageUid();
        for (Workload workload : Workload.of(overlay)) {
            for (Container container : workload.containers()) {
                String where = workload.where(container);
                SecurityContext security = container.getSecurityContext();
                assertNotNull(security, where + ": no securityContext");
                assertEquals(Boolean.TRUE, security.getRunAsNonRoot(), where + ": runAsNonRoot");
                assertEquals(uid, security.getRunAsUser(), where + ": runAsUser must be the image's uid");
                assertEquals(uid, security.getRunAsGroup(), where + ": runAsGroup must be the image's gid");
                assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem(), where + ": readOnlyRootFilesystem");
                assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation(), where + ": allowPrivilegeEscalation");
                assertNotEquals(Boolean.TRUE, security.getPrivileged(), where + ": privileged");
                assertNotNull(security.getCapabilities(), where + ": capabilities");
                assertEquals(List.of("ALL"), security.getCapabilities().getDrop(), where + ": capabilities.drop");
                assertTrue(Optional.ofNullable(security.getCapabilities().getAdd()).orElse(List.of()).isEmpty(),
                        where + ": capabilities.add");
                assertNotNull(security.getSeccompProfile(), where + ": seccompProfile");
                assertEquals("RuntimeDefault", security.getSeccompProfile().getType(), where + ": seccompProfile");
            }
            if (workload.podSecurity()) {
                PodSecurityContext pod = workload.pod().getSecurityContext();
                String where = overlay + ": " + workload.source();
                assertNotNull(pod, where + ": no pod securityContext");
                assertEquals(Boolean.TRUE, pod.getRunAsNonRoot(), where + ": pod runAsNonRoot");
                assertEquals(uid, pod.getRunAsUser(), where + ": pod runAsUser");
                assertEquals("RuntimeDefault", pod.getSeccompProfile().getType(), where + ": pod seccompProfile");
                assertNotEquals(Boolean.TRUE, workload.pod().getHostNetwork(), where + ": hostNetwork");
                assertNotEquals(Boolean.TRUE, workload.pod().getHostPID(), where + ": hostPID");
                assertNotEquals(Boolean.TRUE, workload.pod().getHostIPC(), where + ": hostIPC");
            }
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyContainerHasCpuAndMemoryRequestsWithinItsLimits(String overlay) {
        for (Workload workload : Workload.of(overlay)) {
            for (Container container : workload.containers()) {
                String where = workload.where(container);
                assertNotNull(container.getResources(), where + ": no resources");
                Map<String, Quantity> requests = Optional.ofNullable(container.getResources().getRequests()).orElse(Map.of());
                Map<String, Quantity> limits = Optional.ofNullable(container.getResources().getLimits()).orElse(Map.of());
                for (String resource : List.of("cpu", "memory")) {
                    assertTrue(requests.containsKey(resource), where + ": no " + resource + " request");
                    assertTrue(limits.containsKey(resource), where + ": no " + resource + " limit");
                }
                requests.forEach((resource, request) -> {
                    assertTrue(limits.containsKey(resource), where + ": " + resource + " requested without a limit");
                    assertTrue(request.getNumericalAmount().compareTo(limits.get(resource).getNumericalAmount()) <= 0,
                            where + ": " + resource + " request " + request + " above its limit " + limits.get(resource));
                });
            }
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everythingWrittenLandsOnAWritableVolume(String overlay) {
        for (Workload workload : Workload.of(overlay)) {
            List<Volume> volumes = Optional.ofNullable(workload.pod().getVolumes()).orElse(List.of());
            for (Volume volume : volumes) {
                if (volume.getEmptyDir() != null) {
                    assertNotNull(volume.getEmptyDir().getSizeLimit(),
                            overlay + ": " + workload.source() + ": emptyDir " + volume.getName() + " has no sizeLimit");
                }
            }
            for (Container container : workload.containers()) {
                String where = workload.where(container);
                for (VolumeMount mount : container.getVolumeMounts()) {
                    assertTrue(volumes.stream().anyMatch(v -> v.getName().equals(mount.getName())),
                            where + ": mounts " + mount.getName() + ", which the pod does not have");
                }
                // java.io.tmpdir (ONNX Runtime's native libraries, Vert.x's cache, crash reports) and DJL's cache.
                assertWritable(container, "/tmp", where);
                assertWritable(container, Workload.value(container, "DJL_CACHE_DIR").orElseThrow(
                        () -> new AssertionError(where + ": DJL_CACHE_DIR unset: DJL would write to the home folder")), where);
                for (String folder : List.of("DISTILLERY_STORE", "DISTILLERY_JOBS")) {
                    Workload.value(container, folder).filter(path -> !path.startsWith(KSERVE_MODEL_MOUNT))
                            .ifPresent(path -> assertWritable(container, path, where + " (" + folder + ")"));
                }
            }
        }
    }

    private static void assertWritable(Container container, String path, String where) {
        Optional<VolumeMount> mount = container.getVolumeMounts().stream()
                .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"))
                .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()));
        assertTrue(mount.isPresent(), where + ": writes " + path + ", which is on the read-only root filesystem");
        assertNotEquals(Boolean.TRUE, mount.get().getReadOnly(), where + ": " + path + " is mounted read-only");
    }

    /** The uid both images run as ({@code USER uid:gid}), the same in each. */
    private static long imageUid() {
        Long uid = null;
        for (String dockerfile : List.of("Dockerfile.jvm", "Dockerfile.gpu")) {
            try {
                Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$")
                        .matcher(Files.readString(Path.of("src/main/docker", dockerfile)));
                assertTrue(user.find(), dockerfile + " has no numeric USER uid:gid line");
                assertEquals(user.group(1), user.group(2), dockerfile + ": uid and gid differ");
                long found = Long.parseLong(user.group(1));
                assertFalse(found == 0, dockerfile + " runs as root");
                assertTrue(uid == null || uid == found, "the two images run as different users");
                uid = found;
            } catch (IOException e) {
                throw new AssertionError("cannot read " + dockerfile, e);
            }
        }
        return uid;
    }
}
