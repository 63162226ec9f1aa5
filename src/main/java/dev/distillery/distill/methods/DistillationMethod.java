package dev.distillery.distill.methods;

import ai.djl.training.loss.Loss;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Distillation;

/**
 * How a student learns from its teacher: a recipe's {@code distillation.method}. Each method owns its
 * settings (which of temperature, alpha, beta and warm-up it reads, their defaults and their ranges)
 * and builds its loss, a DJL {@link Loss} over labels {@code [y (B), t (B, K)]} and predictions
 * {@code [s (B, K)]}.
 *
 * <p>A new method is one class implementing this interface and one line in
 * {@link DistillationMethods}.
 */
public interface DistillationMethod {

    /** The name recipes use. */
    String name();

    /** What the method needs from the teacher. */
    TeacherSignal signal();

    /**
     * {@code given} with this method's defaults filled in and every setting checked.
     *
     * @param hasTeacher whether the recipe names a teacher (a default may depend on it)
     * @throws DistilleryException INVALID_ARGUMENT naming the field, its value and what is accepted
     */
    Distillation resolve(Distillation given, boolean hasTeacher);

    /** True when training with these resolved settings needs the teacher's outputs. */
    boolean usesTeacher(Distillation resolved);

    /**
     * The loss of epoch {@code epoch} (1-based; some methods warm their teacher term up over epochs)
     * with resolved settings, its cross-entropy term smoothed by {@code labelSmoothing}.
     */
    Loss loss(Distillation resolved, float labelSmoothing, int epoch);
}
