package dev.distillery.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every overlay in k8s/ renders with {@code kubectl kustomize}, and every object it renders, the worker Job templates
 * inside its ConfigMaps included, reads strictly as its Kubernetes kind.
 */
class OverlaysParseTest {

    static final List<String> OVERLAYS = Overlays.ALL;

    @Test
    void everyOverlayOnDiskIsChecked() throws IOException {
        assertEquals(Overlays.ALL.stream().sorted().toList(), Overlays.onDisk());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyObjectReadsStrictlyAsItsKind(String overlay) {
        List<Map<String, Object>> objects = Overlays.render(overlay);
        assertFalse(objects.isEmpty(), overlay + " renders nothing");
        objects.forEach(StrictKubernetes::parse);
        assertFalse(Workload.of(overlay).isEmpty(), overlay + " runs no pod");
    }

    @Test
    void theClusterCarriesAWorkerTemplate() {
        for (String overlay : List.of("cluster", "gpu")) {
            assertEquals(1, Workload.of(overlay).stream().filter(w -> w.source().startsWith("ConfigMap ")).count(),
                    overlay + ": one worker Job template");
        }
    }

    // The reader must be able to fail: fabric8 alone would keep any of these in a map of extra fields.

    @Test
    void aFieldTheKindDoesNotHaveIsRefused() {
        AssertionError refused = assertThrows(AssertionError.class, () -> StrictKubernetes.parse(singleDeployment(
                d -> container(d).put("imagePullPolicyy", "Always"))));
        assertTrue(refused.getMessage().contains("imagePullPolicyy"), refused.getMessage());
    }

    @Test
    void aMisspelledNestedFieldIsRefused() {
        AssertionError refused = assertThrows(AssertionError.class, () -> StrictKubernetes.parse(singleDeployment(
                d -> container(d).put("securityContext", Map.of("readOnlyRootFileSystem", true)))));
        assertTrue(refused.getMessage().contains("readOnlyRootFileSystem"), refused.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeIsRefused() {
        assertThrows(AssertionError.class, () -> StrictKubernetes.parse(singleDeployment(
                d -> spec(d).put("replicas", "two"))));
        assertThrows(AssertionError.class, () -> StrictKubernetes.parse(singleDeployment(
                d -> container(d).put("securityContext", Map.of("runAsNonRoot", "yes")))));
    }

    @Test
    void aKindWithoutAModelIsRefused() {
        AssertionError refused = assertThrows(AssertionError.class, () -> StrictKubernetes.parse(singleDeployment(
                d -> d.put("kind", "StatefulSet"))));
        assertTrue(refused.getMessage().contains("no model for apps/v1/StatefulSet"), refused.getMessage());
    }

    /** A copy of the single overlay's Deployment, changed by the test. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> singleDeployment(Consumer<Map<String, Object>> change) {
        Map<String, Object> copy = new ObjectMapper().convertValue(Overlays.objects("single", "Deployment").get(0), Map.class);
        StrictKubernetes.parse(copy);
        change.accept(copy);
        return copy;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(Map<String, Object> object) {
        return (Map<String, Object>) object.get("spec");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> container(Map<String, Object> deployment) {
        Map<String, Object> template = (Map<String, Object>) spec(deployment).get("template");
        return ((List<Map<String, Object>>) spec(template).get("containers")).get(0);
    }
}
