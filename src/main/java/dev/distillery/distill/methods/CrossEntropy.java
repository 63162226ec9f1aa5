package dev.distillery.distill.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * The cross-entropy term every method shares: softmax cross-entropy with label smoothing ε over the
 * labelled images of a batch, PyTorch's {@code cross_entropy(s, y, ignore_index=-1, label_smoothing=ε)}.
 * For student logits {@code s}, labels {@code y}, {@code K} classes and {@code q_i = softmax(s_i)}:
 *
 * <pre>
 * CE = (1 / |M|) · Σ_{i∈M} [ −(1 − ε) · log q_i[y_i] − (ε / K) · Σ_k log q_ik ]     M = { i : y_i ≥ 0 }
 * </pre>
 *
 * <p>CE is 0 when no image of the batch is labelled (PyTorch gives NaN there). It is computed from
 * log-softmax, never from the log of a softmax, so large logits do not overflow.
 */
final class CrossEntropy {

    private CrossEntropy() {}

    /** CE of logits {@code (B, K)} against labels {@code (B)} (int or float; -1 = unlabelled). */
    static NDArray ofLabelled(NDArray logits, NDArray labels, float smoothing) {
        NDArray flat = labels.reshape(-1);
        NDArray labelled = flat.gte(0).toType(logits.getDataType(), false);
        // -1 would index out of range; its term is masked out below, so any valid class will do.
        NDArray classes = flat.maximum(0).toType(DataType.INT64, false);
        NDArray logQ = logits.logSoftmax(1);
        NDArray perImage = logQ.get(new NDIndex().addAllDim().addPickDim(classes)).reshape(-1);
        if (smoothing > 0) {
            perImage = perImage.mul(Constant.of(logits, 1 - smoothing))
                    .add(logQ.mean(new int[] {1}).mul(Constant.of(logits, smoothing)));
        }
        return perImage.mul(labelled).sum().neg().div(labelled.sum().maximum(1));
    }
}
