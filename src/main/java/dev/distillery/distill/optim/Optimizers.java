package dev.distillery.distill.optim;

import dev.distillery.v1.OptimizerSpec;
import java.util.Set;
import java.util.TreeSet;

/** The optimizers a recipe can name. */
public final class Optimizers {

    public static final String ADAMW = "adamw";
    public static final String SGD = "sgd";

    private Optimizers() {}

    /** Every optimizer's name, sorted. */
    public static Set<String> names() {
        return new TreeSet<>(Set.of(ADAMW, SGD));
    }

    /** A fresh optimizer for a resolved spec (every field filled in by the recipe's defaults). */
    public static ResumableOptimizer create(OptimizerSpec spec) {
        float rate = spec.getLearningRate().getValue();
        float decay = spec.getWeightDecay().getValue();
        return switch (spec.getName()) {
            case ADAMW -> new AdamWOptimizer(rate, decay);
            case SGD -> new SgdOptimizer(rate, decay, spec.getMomentum().getValue(), spec.getNesterov());
            default -> throw new IllegalArgumentException("unresolved optimizer '" + spec.getName() + "'");
        };
    }
}
