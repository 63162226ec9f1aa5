package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.List;

/**
 * The dense part shared by every catalogue network: for each width in {@code hidden},
 * Dense + ReLU (+ Dropout when {@code dropout > 0}), then a Dense layer to the class logits.
 */
final class DenseHead {

    private DenseHead() {}

    /** Appends the head to {@code layers}, which end in {@code inFeatures} features per input. */
    static void append(List<Layer> layers, int inFeatures, ArchitectureSpec spec, int classes) {
        validate(spec);
        int features = inFeatures;
        for (int width : spec.hidden()) {
            layers.add(new Layer.Dense(features, width));
            layers.add(new Layer.Relu());
            if (spec.dropout() > 0) {
                layers.add(new Layer.Dropout(spec.dropout()));
            }
            features = width;
        }
        layers.add(new Layer.Dense(features, classes));
    }

    private static void validate(ArchitectureSpec spec) {
        for (int i = 0; i < spec.hidden().size(); i++) {
            int width = spec.hidden().get(i);
            if (width <= 0) {
                throw DistilleryException.invalid(
                        "%s: hidden[%d] is %d; every hidden width must be a positive number of units",
                        spec.name(), i, width);
            }
        }
        checkDropout(spec);
    }

    /** Every head's dropout is a probability in [0, 1). */
    static void checkDropout(ArchitectureSpec spec) {
        float dropout = spec.dropout();
        if (!(dropout >= 0 && dropout < 1)) {
            throw DistilleryException.invalid(
                    "%s: dropout is %s; it is a probability in [0, 1), 0 for none", spec.name(), dropout);
        }
    }
}
