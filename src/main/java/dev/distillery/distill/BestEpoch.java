package dev.distillery.distill;

import ai.djl.nn.Block;

/**
 * The best epoch so far by validation accuracy (ties: the earlier) with a copy of its parameters, and
 * early stopping: the run ends once {@code patience} epochs in a row have not beaten it. Without
 * validation images every accuracy is NaN and every epoch counts as the best so far, so the last
 * epoch is the one kept.
 */
public final class BestEpoch {

    private final int patience;
    private Best best;

    /** @param patience 0 = never stop early */
    BestEpoch(int patience) {
        this.patience = patience;
    }

    /**
     * The best epoch.
     *
     * @param epoch 1-based
     * @param accuracy its validation accuracy; NaN without validation images
     * @param parameters its parameters
     */
    public record Best(int epoch, double accuracy, ParameterSnapshot parameters) {}

    /** Records a finished epoch, copying {@code block}'s parameters when it is the new best. */
    void offer(int epoch, double accuracy, Block block) {
        if (best == null || Double.isNaN(accuracy) || accuracy > best.accuracy()) {
            best = new Best(epoch, accuracy, ParameterSnapshot.of(block));
        }
    }

    /** True when epoch {@code epoch} was the {@code patience}-th in a row not to beat the best. */
    boolean exhausted(int epoch) {
        return patience > 0 && best != null && epoch - best.epoch() >= patience;
    }

    /** The best so far; null before the first epoch. */
    Best best() {
        return best;
    }

    void restore(Best saved) {
        best = saved;
    }
}
