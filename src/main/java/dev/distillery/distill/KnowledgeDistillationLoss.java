package dev.distillery.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import dev.distillery.error.DistilleryException;

/**
 * Knowledge-distillation loss of Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
 * Network" (2015, arXiv:1503.02531): the student learns from the hard labels and from the
 * teacher's temperature-softened class probabilities.
 *
 * <p>For student logits {@code s}, teacher logits {@code t}, labels {@code y}, temperature {@code T}
 * and teacher weight {@code α}, over a batch of {@code B} images and {@code K} classes:
 *
 * <pre>
 * L  = (1 − α) · CE + α · T² · KL
 * CE = −(1 / |M|) · Σ_{i∈M} log softmax(s_i)[y_i]      M = { i : y_i ≥ 0 }; CE = 0 when M is empty
 * KL =  (1 / B) · Σ_i Σ_k p_ik · (log p_ik − log q_ik)
 *      p_i = softmax(t_i / T),  q_i = softmax(s_i / T)
 * </pre>
 *
 * <p>KL is PyTorch's {@code kl_div(log q, p, reduction="batchmean")}; the factor {@code T²} keeps the
 * soft term's gradients on the scale of the hard term's as {@code T} changes. A label of -1 marks an
 * image of a transfer set, taught by the teacher only: it is left out of CE but counts in KL. Both
 * terms are computed from log-softmax, never from the log of a softmax, so large logits do not
 * overflow.
 *
 * <p>Labels: {@code [y (B) int or float, t (B, K)]}; {@code t} may be omitted when {@code α = 0},
 * which makes this plain softmax cross-entropy. Predictions: {@code [s (B, K)]}. The value is a
 * scalar.
 */
public final class KnowledgeDistillationLoss extends Loss {

    private final float temperature;
    private final float alpha;

    private KnowledgeDistillationLoss(Builder builder) {
        super(builder.name);
        temperature = builder.temperature;
        alpha = builder.alpha;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float temperature() {
        return temperature;
    }

    public float alpha() {
        return alpha;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray studentLogits = predictions.singletonOrThrow();
        if (alpha == 0) {
            return crossEntropyOfLabelled(studentLogits, labels.head());
        }
        Shape expected = studentLogits.getShape();
        if (labels.size() < 2 || !labels.get(1).getShape().equals(expected)) {
            throw new IllegalArgumentException(String.format(
                    "alpha = %s needs teacher logits of shape %s as the second label array, got %s",
                    alpha, expected, labels.size() < 2 ? "none" : labels.get(1).getShape()));
        }
        NDArray soft = softDivergence(studentLogits, labels.get(1))
                .mul(alpha * temperature * temperature);
        if (alpha == 1) {
            return soft;
        }
        return soft.add(crossEntropyOfLabelled(studentLogits, labels.head()).mul(1 - alpha));
    }

    /** CE over the images whose label is not -1. */
    private static NDArray crossEntropyOfLabelled(NDArray studentLogits, NDArray labels) {
        NDArray flat = labels.reshape(-1);
        NDArray labelled = flat.gte(0).toType(studentLogits.getDataType(), false);
        // -1 would index out of range; its term is masked out below, so any valid class will do.
        NDArray classes = flat.maximum(0).toType(DataType.INT64, false);
        NDArray logProbabilities = studentLogits.logSoftmax(1)
                .get(new NDIndex().addAllDim().addPickDim(classes))
                .reshape(-1);
        NDArray count = labelled.sum().maximum(1);
        return logProbabilities.mul(labelled).sum().neg().div(count);
    }

    /** KL(softmax(t / T) ‖ softmax(s / T)), summed over classes and averaged over the batch. */
    private NDArray softDivergence(NDArray studentLogits, NDArray teacherLogits) {
        NDArray logP = teacherLogits.div(temperature).logSoftmax(1);
        NDArray logQ = studentLogits.div(temperature).logSoftmax(1);
        return logP.exp().mul(logP.sub(logQ)).sum().div(studentLogits.getShape().get(0));
    }

    /** Configures a {@link KnowledgeDistillationLoss}; defaults: the seed recipe's T = 3, α = 0.7. */
    public static final class Builder {

        private String name = "KnowledgeDistillationLoss";
        private float temperature = 3f;
        private float alpha = 0.7f;

        private Builder() {}

        public Builder optName(String name) {
            this.name = name;
            return this;
        }

        /** Softening temperature T > 0; the seed recipe suggests 2 to 5. */
        public Builder optTemperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        /** Weight α in [0, 1] of the teacher's term; 0 trains on the labels alone. */
        public Builder optAlpha(float alpha) {
            this.alpha = alpha;
            return this;
        }

        /** @throws DistilleryException INVALID_ARGUMENT when T or α is out of range */
        public KnowledgeDistillationLoss build() {
            if (!(temperature > 0) || Float.isInfinite(temperature)) {
                throw DistilleryException.invalid("temperature must be > 0, got %s", temperature);
            }
            if (!(alpha >= 0 && alpha <= 1)) {
                throw DistilleryException.invalid("alpha must be in [0, 1], got %s", alpha);
            }
            return new KnowledgeDistillationLoss(this);
        }
    }
}
