package dev.distillery.distill.optim;

import ai.djl.ndarray.NDArray;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), exactly as
 * {@code torch.optim.AdamW} with its defaults β1 = 0.9, β2 = 0.999, ε = 1e-8 and no amsgrad. For
 * weight {@code w}, gradient {@code g}, learning rate {@code η}, weight decay {@code λ} and step
 * {@code t} (1-based):
 *
 * <pre>
 * w ← w · (1 − η·λ)
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * w ← w − (η / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 *
 * <p>Slots: {@code m}, {@code v}.
 */
public final class AdamWOptimizer extends ResumableOptimizer {

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final float weightDecay;

    public AdamWOptimizer(float learningRate, float weightDecay) {
        super(2, learningRate);
        this.weightDecay = weightDecay;
    }

    @Override
    protected void step(NDArray weight, NDArray grad, NDArray[] slots, long steps, float learningRate) {
        NDArray m = slots[0];
        NDArray v = slots[1];
        if (weightDecay != 0) {
            weight.muli(1 - (double) learningRate * weightDecay);
        }
        m.muli(BETA1).addi(grad.mul(1 - BETA1));
        v.muli(BETA2).addi(grad.square().muli(1 - BETA2));
        double correction1 = 1 - Math.pow(BETA1, steps);
        double correction2 = 1 - Math.pow(BETA2, steps);
        NDArray denominator = v.sqrt().divi(Math.sqrt(correction2)).addi(EPSILON);
        weight.subi(m.div(denominator).muli(learningRate / correction1));
    }
}
