package dev.distillery.distill.methods;

import com.google.protobuf.FloatValue;
import dev.distillery.error.DistilleryException;

/** Range checks shared by the methods' settings; each message names the recipe field. */
final class Settings {

    private Settings() {}

    /** The value of {@code given} when set, else {@code fallback}; rejected unless finite and > 0. */
    static float positive(String field, boolean set, FloatValue given, float fallback) {
        float value = set ? given.getValue() : fallback;
        if (!(value > 0) || Float.isInfinite(value)) {
            throw DistilleryException.invalid("distillation.%s must be > 0, got %s", field, value);
        }
        return value;
    }

    /** The value of {@code given} when set, else {@code fallback}; rejected unless finite and >= 0. */
    static float nonNegative(String field, boolean set, FloatValue given, float fallback) {
        float value = set ? given.getValue() : fallback;
        if (!(value >= 0) || Float.isInfinite(value)) {
            throw DistilleryException.invalid("distillation.%s must be >= 0, got %s", field, value);
        }
        return value;
    }

    /** The value of {@code given} when set, else {@code fallback}; rejected unless in [0, 1]. */
    static float fraction(String field, boolean set, FloatValue given, float fallback) {
        float value = set ? given.getValue() : fallback;
        if (!(value >= 0 && value <= 1)) {
            throw DistilleryException.invalid("distillation.%s must be in [0, 1], got %s", field, value);
        }
        return value;
    }
}
