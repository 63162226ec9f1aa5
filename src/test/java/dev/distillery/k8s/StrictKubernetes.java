package dev.distillery.k8s;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.Map;

/**
 * Kubernetes objects read strictly with fabric8's model classes: a field the kind does not have, or a value of the
 * wrong type, is an error. fabric8 keeps unknown fields in an "additional properties" map; this reader takes that
 * map away from every class, so Jackson's unknown-property check applies as in {@code kubectl apply --validate}.
 */
final class StrictKubernetes {

    /** The kinds the overlays may hold, by apiVersion and kind; anything else fails until a model is added here. */
    static final Map<String, Class<? extends HasMetadata>> MODELS = Map.ofEntries(
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("batch/v1/Job", Job.class),
            Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
            Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
            // KServe's custom resources: fabric8 has no model for them; their fields are checked one by one.
            Map.entry("serving.kserve.io/v1alpha1/ServingRuntime", GenericKubernetesResource.class),
            Map.entry("serving.kserve.io/v1beta1/InferenceService", GenericKubernetesResource.class));

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .addModule(new SimpleModule().setDeserializerModifier(new BeanDeserializerModifier() {
                @Override
                public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
                        BeanDeserializerBuilder builder) {
                    builder.setAnySetter(null);
                    return builder;
                }
            }))
            .build();

    /** For the custom resources, whose body is free-form by design. */
    private static final ObjectMapper GENERIC = new ObjectMapper();

    private StrictKubernetes() {
    }

    /** The object as its kind's model class; fails naming the first unknown field or wrong value. */
    static HasMetadata parse(Map<String, Object> object) {
        String key = object.get("apiVersion") + "/" + object.get("kind");
        Class<? extends HasMetadata> model = MODELS.get(key);
        if (model == null) {
            throw new AssertionError("no model for " + key + " (" + name(object) + "): add one to StrictKubernetes.MODELS");
        }
        if (model == GenericKubernetesResource.class) {
            GenericKubernetesResource resource = GENERIC.convertValue(object, GenericKubernetesResource.class);
            as(object.get("metadata"), io.fabric8.kubernetes.api.model.ObjectMeta.class, key + " metadata");
            return resource;
        }
        return as(object, model, key + " " + name(object));
    }

    /** Any part of an object (a container, a volume, a Job template's text) as a model class, strictly. */
    static <T> T as(Object value, Class<T> type, String what) {
        try {
            return STRICT.convertValue(value, type);
        } catch (IllegalArgumentException e) {
            throw new AssertionError(what + " is not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    static String name(Map<String, Object> object) {
        Object metadata = object.get("metadata");
        return metadata instanceof Map<?, ?> m ? String.valueOf(((Map<String, Object>) m).get("name")) : "(no name)";
    }
}
