package dev.distillery.serve;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The version policy of every model: one for all models ({@code distillery.serving.defaults.versions}) and
 * overrides by model name ({@code distillery.serving.models."<name>".versions}).
 */
public record VersionPolicies(VersionPolicy defaults, Map<String, VersionPolicy> models) {

    /** Every model served with {@link VersionPolicy#DEFAULT}. */
    public static final VersionPolicies DEFAULT = new VersionPolicies(VersionPolicy.DEFAULT, Map.of());

    public VersionPolicies {
        models = Map.copyOf(models);
    }

    /**
     * Reads the configured policies.
     *
     * @param defaults the policy for every model; {@link VersionPolicy#DEFAULT} when absent
     * @param models per-model policies, by model name
     * @throws IllegalArgumentException naming the configuration key of a value that is not a policy
     */
    public static VersionPolicies parse(Optional<String> defaults, Map<String, String> models) {
        VersionPolicy fallback = defaults.map(text -> parse("distillery.serving.defaults.versions", text))
                .orElse(VersionPolicy.DEFAULT);
        Map<String, VersionPolicy> overrides = new TreeMap<>();
        models.forEach((name, text) ->
                overrides.put(name, parse("distillery.serving.models.\"" + name + "\".versions", text)));
        return new VersionPolicies(fallback, overrides);
    }

    private static VersionPolicy parse(String key, String text) {
        try {
            return VersionPolicy.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** The policy {@code model} is served with. */
    public VersionPolicy of(String model) {
        return models.getOrDefault(model, defaults);
    }
}
