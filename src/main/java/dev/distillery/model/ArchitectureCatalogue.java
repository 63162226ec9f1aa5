package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The networks a recipe may name, torchdistill style: a catalogue name maps to the factory that
 * expands an {@link ArchitectureSpec} into layers. {@link #standard()} holds "mlp", "cnn", "resnet"
 * and "mobilenetv2".
 */
public final class ArchitectureCatalogue {

    private final SortedMap<String, ArchitectureFactory> factories;

    public ArchitectureCatalogue(Map<String, ArchitectureFactory> factories) {
        this.factories = Collections.unmodifiableSortedMap(new TreeMap<>(factories));
    }

    /**
     * The built-in architectures: {@link MlpFactory} as "mlp", {@link CnnFactory} as "cnn",
     * {@link ResNetFactory} as "resnet", {@link MobileNetV2Factory} as "mobilenetv2".
     */
    public static ArchitectureCatalogue standard() {
        return new ArchitectureCatalogue(Map.of(
                "mlp", new MlpFactory(),
                "cnn", new CnnFactory(),
                "resnet", new ResNetFactory(),
                "mobilenetv2", new MobileNetV2Factory()));
    }

    /** Catalogue names, sorted. */
    public Set<String> names() {
        return factories.keySet();
    }

    /**
     * Builds {@code spec} for inputs of shape (channels, height, width) and {@code classes} logits.
     *
     * @throws DistilleryException INVALID_ARGUMENT when the name is unknown, the spec gives a setting
     *     the architecture does not use, or the spec or sizes do not make a network; the message
     *     says what would be accepted
     */
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        String name = spec.name() == null ? "" : spec.name();
        if (name.isBlank()) {
            throw DistilleryException.invalid("architecture name is empty; choose one of %s", names());
        }
        ArchitectureFactory factory = factories.get(name);
        if (factory == null) {
            throw DistilleryException.invalid("unknown architecture \"%s\"; choose one of %s", name, names());
        }
        rejectUnusedSettings(name, spec, factory);
        requirePositive("input channels", channels);
        requirePositive("input height", height);
        requirePositive("input width", width);
        requirePositive("number of classes", classes);
        return factory.build(spec, channels, height, width, classes);
    }

    /** A setting the architecture would ignore is a mistake in the recipe: say so rather than ignore it. */
    private static void rejectUnusedSettings(String name, ArchitectureSpec spec, ArchitectureFactory factory) {
        List<String> unused = spec.settings().stream().filter(s -> !factory.settings().contains(s)).toList();
        if (!unused.isEmpty()) {
            throw DistilleryException.invalid("%s does not use %s; leave %s unset (%s takes %s)",
                    name, String.join(", ", unused), unused.size() == 1 ? "it" : "them",
                    name, String.join(", ", factory.settings()));
        }
    }

    private static void requirePositive(String what, int value) {
        if (value <= 0) {
            throw DistilleryException.invalid("%s must be positive, got %d", what, value);
        }
    }
}
