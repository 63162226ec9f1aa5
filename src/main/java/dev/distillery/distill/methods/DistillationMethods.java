package dev.distillery.distill.methods;

import dev.distillery.error.DistilleryException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The distillation methods by name, as mdistiller's {@code distillers/__init__.py} and torchdistill's
 * loss registry keep theirs. {@code kd} is the default.
 */
public final class DistillationMethods {

    public static final String DEFAULT = KnowledgeDistillationLoss.METHOD.name();

    private static final Map<String, DistillationMethod> BY_NAME = Stream.of(
                    KnowledgeDistillationLoss.METHOD,
                    DecoupledKnowledgeDistillationLoss.METHOD)
            .collect(Collectors.toMap(DistillationMethod::name, Function.identity(), (a, b) -> a, TreeMap::new));

    private DistillationMethods() {}

    /** Every method's name, sorted. */
    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    /**
     * The method called {@code name}; empty means {@link #DEFAULT}.
     *
     * @throws DistilleryException INVALID_ARGUMENT listing the known methods
     */
    public static DistillationMethod get(String name) {
        DistillationMethod method = BY_NAME.get(name.isEmpty() ? DEFAULT : name);
        if (method == null) {
            throw DistilleryException.invalid("distillation.method '%s' is unknown; known methods: %s", name, names());
        }
        return method;
    }
}
