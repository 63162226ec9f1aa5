package dev.distillery.distill.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import com.google.protobuf.FloatValue;
import com.google.protobuf.Int32Value;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Distillation;

/**
 * Decoupled knowledge distillation of Zhao, Cui, Song, Qiu and Liang, "Decoupled Knowledge
 * Distillation" (CVPR 2022, arXiv:2203.08679), as mdistiller's {@code distillers/DKD.py} computes it.
 * The KD term splits into how sure the teacher is of the target class (TCKD) and how it ranks the
 * other classes (NCKD), weighted separately. Method {@code dkd}.
 *
 * <p>For student logits {@code s}, teacher logits {@code t}, target classes {@code g}, temperature
 * {@code T}, weights {@code α} (TCKD) and {@code β} (NCKD), over a batch of {@code B} images:
 *
 * <pre>
 * L    = CE + w · (α · TCKD + β · NCKD)
 * TCKD = (T² / B) · Σ_i KL(b(t_i / T) ‖ b(s_i / T))
 *        b(z) = (softmax(z)[g], 1 − softmax(z)[g])            the binary target / non-target split
 * NCKD = (T² / B) · Σ_i KL(softmax(t_i / T − 1000·1_g) ‖ softmax(s_i / T − 1000·1_g))
 *        1_g one-hot at g: pushing the target logit down by 1000 leaves the non-target classes only
 * w    = min(epoch / warm-up epochs, 1)                       1 without warm-up
 * CE   = cross-entropy with label smoothing over the labelled images (see {@link CrossEntropy})
 * </pre>
 *
 * <p>b is taken from log-sum-exp of the logits rather than from the log of summed probabilities as
 * mdistiller does: equal in exact arithmetic, and finite when a probability underflows.
 *
 * <p>Transfer sets: an image labelled -1 has no target class, so its decoupling uses the teacher's
 * top class as {@code g}; it is left out of CE, as in {@link KnowledgeDistillationLoss}.
 *
 * <p>Labels: {@code [y (B) int or float, t (B, K)]}. Predictions: {@code [s (B, K)]}. The value is a
 * scalar.
 */
public final class DecoupledKnowledgeDistillationLoss extends Loss {

    /** Settings: temperature (default 4), alpha (1), beta (8) and warm-up epochs (20), mdistiller's CIFAR-100 values. */
    public static final DistillationMethod METHOD = new Method();

    public static final float DEFAULT_TEMPERATURE = 4f;
    public static final float DEFAULT_ALPHA = 1f;
    public static final float DEFAULT_BETA = 8f;
    public static final int DEFAULT_WARMUP_EPOCHS = 20;

    /** mdistiller's mask: large enough that the target's softmax share underflows to 0. */
    private static final float TARGET_MASK = 1000f;

    private final float temperature;
    private final float alpha;
    private final float beta;
    private final float warmupWeight;
    private final float labelSmoothing;

    private DecoupledKnowledgeDistillationLoss(Builder builder) {
        super(builder.name);
        temperature = builder.temperature;
        alpha = builder.alpha;
        beta = builder.beta;
        warmupWeight = builder.warmupWeight;
        labelSmoothing = builder.labelSmoothing;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The warm-up weight w of 1-based epoch {@code epoch}: min(epoch / warm-up, 1), 1 when warm-up is 0. */
    public static float warmupWeight(int epoch, int warmupEpochs) {
        return warmupEpochs <= 0 ? 1f : Math.min((float) epoch / warmupEpochs, 1f);
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray studentLogits = predictions.singletonOrThrow();
        Shape expected = studentLogits.getShape();
        if (labels.size() < 2 || !labels.get(1).getShape().equals(expected)) {
            throw new IllegalArgumentException(String.format(
                    "dkd needs teacher logits of shape %s as the second label array, got %s",
                    expected, labels.size() < 2 ? "none" : labels.get(1).getShape()));
        }
        NDArray teacherLogits = labels.get(1);
        NDArray crossEntropy = CrossEntropy.ofLabelled(studentLogits, labels.head(), labelSmoothing);

        NDArray flat = labels.head().reshape(-1);
        NDArray target = NDArrays.where(flat.gte(0), flat.toType(DataType.INT64, false),
                teacherLogits.argMax(1).toType(DataType.INT64, false));
        NDArray targetMask = target.oneHot((int) expected.get(1), studentLogits.getDataType());
        NDArray zs = studentLogits.div(Constant.of(studentLogits, temperature));
        NDArray zt = teacherLogits.div(temperature);

        NDArray tckd = divergence(binaryLog(zt, targetMask), binaryLog(zs, targetMask));
        NDArray offset = targetMask.mul(TARGET_MASK);
        NDArray nckd = divergence(zt.sub(offset).logSoftmax(1), zs.sub(offset).logSoftmax(1));
        float scale = warmupWeight * temperature * temperature / expected.get(0);
        return crossEntropy.add(tckd.mul(Constant.of(tckd, alpha)).add(nckd.mul(Constant.of(nckd, beta)))
                .mul(Constant.of(crossEntropy, scale)));
    }

    /** Σ_i Σ_k p_ik (log p_ik − log q_ik) from log-probabilities. */
    private static NDArray divergence(NDArray logP, NDArray logQ) {
        return logP.exp().mul(logP.sub(logQ)).sum();
    }

    /** log b(z), (B, 2): the log-probability of the target class and of all the others together. */
    private static NDArray binaryLog(NDArray z, NDArray targetMask) {
        NDArray all = logSumExp(z);
        NDArray target = z.mul(targetMask).sum(new int[] {1}, true).sub(all);
        NDArray others = logSumExp(z.sub(targetMask.mul(TARGET_MASK))).sub(all);
        return NDArrays.concat(new NDList(target, others), 1);
    }

    /** log Σ_k exp(z_k) per row, (B, 1), shifted by the row maximum so exp cannot overflow. */
    private static NDArray logSumExp(NDArray z) {
        NDArray max = z.max(new int[] {1}, true).stopGradient();
        return z.sub(max).exp().sum(new int[] {1}, true).log().add(max);
    }

    /**
     * Configures a {@link DecoupledKnowledgeDistillationLoss}; defaults: T = 4, α = 1, β = 8, full
     * weight, no label smoothing. Ranges are checked where recipes are resolved
     * ({@link DistillationMethod#resolve}).
     */
    public static final class Builder {

        private String name = "DecoupledKnowledgeDistillationLoss";
        private float temperature = DEFAULT_TEMPERATURE;
        private float alpha = DEFAULT_ALPHA;
        private float beta = DEFAULT_BETA;
        private float warmupWeight = 1f;
        private float labelSmoothing;

        private Builder() {}

        public Builder optName(String name) {
            this.name = name;
            return this;
        }

        /** Softening temperature T > 0. */
        public Builder optTemperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        /** Weight α >= 0 of TCKD. */
        public Builder optAlpha(float alpha) {
            this.alpha = alpha;
            return this;
        }

        /** Weight β >= 0 of NCKD. */
        public Builder optBeta(float beta) {
            this.beta = beta;
            return this;
        }

        /** The warm-up weight w in [0, 1] of the decoupled terms; see {@link #warmupWeight(int, int)}. */
        public Builder optWarmupWeight(float warmupWeight) {
            this.warmupWeight = warmupWeight;
            return this;
        }

        /** Label smoothing ε in [0, 1) of the cross-entropy term. */
        public Builder optLabelSmoothing(float labelSmoothing) {
            this.labelSmoothing = labelSmoothing;
            return this;
        }

        public DecoupledKnowledgeDistillationLoss build() {
            return new DecoupledKnowledgeDistillationLoss(this);
        }
    }

    /** Method {@code dkd}: temperature, alpha, beta and warm-up epochs; always needs a teacher. */
    private static final class Method implements DistillationMethod {

        @Override
        public String name() {
            return "dkd";
        }

        @Override
        public TeacherSignal signal() {
            return TeacherSignal.LOGITS;
        }

        @Override
        public Distillation resolve(Distillation given, boolean hasTeacher) {
            float temperature = Settings.positive("temperature", given.hasTemperature(), given.getTemperature(),
                    DEFAULT_TEMPERATURE);
            float alpha = Settings.nonNegative("alpha", given.hasAlpha(), given.getAlpha(), DEFAULT_ALPHA);
            float beta = Settings.nonNegative("beta", given.hasBeta(), given.getBeta(), DEFAULT_BETA);
            int warmup = given.hasWarmupEpochs() ? given.getWarmupEpochs().getValue() : DEFAULT_WARMUP_EPOCHS;
            if (warmup < 0) {
                throw DistilleryException.invalid(
                        "distillation.warmup_epochs must be >= 0 (0 = full weight from the first epoch), got %d", warmup);
            }
            return given.toBuilder().setMethod(name())
                    .setTemperature(FloatValue.of(temperature)).setAlpha(FloatValue.of(alpha))
                    .setBeta(FloatValue.of(beta)).setWarmupEpochs(Int32Value.of(warmup)).build();
        }

        @Override
        public boolean usesTeacher(Distillation resolved) {
            return true;
        }

        @Override
        public Loss loss(Distillation resolved, float labelSmoothing, int epoch) {
            return builder().optTemperature(resolved.getTemperature().getValue())
                    .optAlpha(resolved.getAlpha().getValue())
                    .optBeta(resolved.getBeta().getValue())
                    .optWarmupWeight(warmupWeight(epoch, resolved.getWarmupEpochs().getValue()))
                    .optLabelSmoothing(labelSmoothing)
                    .build();
        }
    }
}
