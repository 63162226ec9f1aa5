package dev.distillery.distill.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import com.google.protobuf.FloatValue;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Distillation;

/**
 * Knowledge-distillation loss of Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
 * Network" (2015, arXiv:1503.02531): the student learns from the hard labels and from the
 * teacher's temperature-softened class probabilities. Method {@code kd}.
 *
 * <p>For student logits {@code s}, teacher logits {@code t}, labels {@code y}, temperature {@code T}
 * and teacher weight {@code α}, over a batch of {@code B} images and {@code K} classes:
 *
 * <pre>
 * L  = (1 − α) · CE + α · T² · KL
 * CE = cross-entropy with label smoothing ε over the labelled images (see {@link CrossEntropy})
 * KL =  (1 / B) · Σ_i Σ_k p_ik · (log p_ik − log q_ik)
 *      p_i = softmax(t_i / T),  q_i = softmax(s_i / T)
 * </pre>
 *
 * <p>KL is PyTorch's {@code kl_div(log q, p, reduction="batchmean")}; the factor {@code T²} keeps the
 * soft term's gradients on the scale of the hard term's as {@code T} changes. A label of -1 marks an
 * image of a transfer set, taught by the teacher only: it is left out of CE but counts in KL. Both
 * terms are computed from log-softmax, so large logits do not overflow.
 *
 * <p>Labels: {@code [y (B) int or float, t (B, K)]}; {@code t} may be omitted when {@code α = 0},
 * which makes this plain (smoothed) softmax cross-entropy. Predictions: {@code [s (B, K)]}. The value
 * is a scalar.
 */
public final class KnowledgeDistillationLoss extends Loss {

    /** Settings: temperature (default 3, the seed recipe's) and alpha (default 0.7 with a teacher, else 0). */
    public static final DistillationMethod METHOD = new Method();

    public static final float DEFAULT_TEMPERATURE = 3f;
    public static final float DEFAULT_ALPHA = 0.7f;

    private final float temperature;
    private final float alpha;
    private final float labelSmoothing;

    private KnowledgeDistillationLoss(Builder builder) {
        super(builder.name);
        temperature = builder.temperature;
        alpha = builder.alpha;
        labelSmoothing = builder.labelSmoothing;
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
            return CrossEntropy.ofLabelled(studentLogits, labels.head(), labelSmoothing);
        }
        Shape expected = studentLogits.getShape();
        if (labels.size() < 2 || !labels.get(1).getShape().equals(expected)) {
            throw new IllegalArgumentException(String.format(
                    "alpha = %s needs teacher logits of shape %s as the second label array, got %s",
                    alpha, expected, labels.size() < 2 ? "none" : labels.get(1).getShape()));
        }
        NDArray soft = softDivergence(studentLogits, labels.get(1))
                .mul(Constant.of(studentLogits, alpha * temperature * temperature));
        if (alpha == 1) {
            return soft;
        }
        return soft.add(CrossEntropy.ofLabelled(studentLogits, labels.head(), labelSmoothing)
                .mul(Constant.of(studentLogits, 1 - alpha)));
    }

    /** KL(softmax(t / T) ‖ softmax(s / T)), summed over classes and averaged over the batch. */
    private NDArray softDivergence(NDArray studentLogits, NDArray teacherLogits) {
        NDArray logP = teacherLogits.div(temperature).logSoftmax(1);
        NDArray logQ = studentLogits.div(Constant.of(studentLogits, temperature)).logSoftmax(1);
        return logP.exp().mul(logP.sub(logQ)).sum()
                .div(Constant.of(studentLogits, studentLogits.getShape().get(0)));
    }

    /**
     * Configures a {@link KnowledgeDistillationLoss}; defaults: the seed recipe's T = 3, α = 0.7, no
     * label smoothing. Ranges are checked where recipes are resolved ({@link DistillationMethod#resolve}).
     */
    public static final class Builder {

        private String name = "KnowledgeDistillationLoss";
        private float temperature = DEFAULT_TEMPERATURE;
        private float alpha = DEFAULT_ALPHA;
        private float labelSmoothing;

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

        /** Label smoothing ε in [0, 1) of the cross-entropy term. */
        public Builder optLabelSmoothing(float labelSmoothing) {
            this.labelSmoothing = labelSmoothing;
            return this;
        }

        public KnowledgeDistillationLoss build() {
            return new KnowledgeDistillationLoss(this);
        }
    }

    /** Method {@code kd}: temperature and alpha; beta and warm-up do not apply. */
    private static final class Method implements DistillationMethod {

        @Override
        public String name() {
            return "kd";
        }

        @Override
        public TeacherSignal signal() {
            return TeacherSignal.LOGITS;
        }

        @Override
        public Distillation resolve(Distillation given, boolean hasTeacher) {
            if (given.hasBeta()) {
                throw DistilleryException.invalid(
                        "distillation.beta is %s but kd has no beta (it weighs its terms with alpha); beta is for dkd",
                        given.getBeta().getValue());
            }
            if (given.hasWarmupEpochs()) {
                throw DistilleryException.invalid(
                        "distillation.warmup_epochs is %d but kd has no warm-up; warmup_epochs is for dkd",
                        given.getWarmupEpochs().getValue());
            }
            float temperature = Settings.positive("temperature", given.hasTemperature(), given.getTemperature(),
                    DEFAULT_TEMPERATURE);
            float alpha = Settings.fraction("alpha", given.hasAlpha(), given.getAlpha(),
                    hasTeacher ? DEFAULT_ALPHA : 0f);
            return given.toBuilder().setMethod(name())
                    .setTemperature(FloatValue.of(temperature)).setAlpha(FloatValue.of(alpha)).build();
        }

        @Override
        public boolean usesTeacher(Distillation resolved) {
            return resolved.getAlpha().getValue() > 0;
        }

        @Override
        public Loss loss(Distillation resolved, float labelSmoothing, int epoch) {
            return builder().optTemperature(resolved.getTemperature().getValue())
                    .optAlpha(resolved.getAlpha().getValue())
                    .optLabelSmoothing(labelSmoothing)
                    .build();
        }
    }
}
