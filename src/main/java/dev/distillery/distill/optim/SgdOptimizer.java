package dev.distillery.distill.optim;

import ai.djl.ndarray.NDArray;

/**
 * Stochastic gradient descent with momentum and optional Nesterov momentum, exactly as
 * {@code torch.optim.SGD} with dampening 0. Weight decay is coupled (an L2 term added to the
 * gradient), as in PyTorch's SGD. For weight {@code w}, gradient {@code g}, learning rate {@code η},
 * weight decay {@code λ} and momentum {@code μ}:
 *
 * <pre>
 * g ← g + λ·w
 * b ← μ·b + g                      b starts at 0, so the first step has b = g, as in PyTorch
 * g ← g + μ·b   (Nesterov)    or   g ← b
 * w ← w − η·g
 * </pre>
 *
 * <p>Slots: {@code b} when {@code μ > 0}, none otherwise.
 */
public final class SgdOptimizer extends ResumableOptimizer {

    private final float weightDecay;
    private final float momentum;
    private final boolean nesterov;

    public SgdOptimizer(float learningRate, float weightDecay, float momentum, boolean nesterov) {
        super(momentum > 0 ? 1 : 0, learningRate);
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    @Override
    protected void step(NDArray weight, NDArray grad, NDArray[] slots, long steps, float learningRate) {
        NDArray direction = weightDecay != 0 ? grad.add(weight.mul(weightDecay)) : grad;
        if (momentum > 0) {
            NDArray buffer = slots[0].muli(momentum).addi(direction);
            direction = nesterov ? direction.add(buffer.mul(momentum)) : buffer;
        }
        weight.subi(direction.mul(learningRate));
    }
}
