package dev.distillery.distill.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * A constant factor of a loss term, as a tensor whose memory PyTorch owns. For a term {@code x} that
 * carries the student's gradient and a number {@code c}, write {@code x.mul(Constant.of(x, c))}, never
 * {@code x.mul(c)}:
 *
 * <pre>
 * x.mul(c)   DJL wraps c in a tensor over a Java direct buffer (from_blob, no copy) and closes it at once;
 *            autograd keeps that tensor for the backward pass (∂(c·x)/∂x = c), so a garbage collection
 *            between forward and backward frees memory the gradient still reads, and the step is scaled
 *            by whatever was written there since (NaN, or a huge value that stalls Adam)
 * Constant   torch's own memory, kept alive by the graph for as long as the graph needs it
 * </pre>
 *
 * <p>The same holds for {@code div}, {@code add} and {@code sub}. Constants applied only to the teacher's
 * logits or the labels need no care: nothing keeps them for a backward pass.
 */
final class Constant {

    private Constant() {}

    /** A scalar {@code value} of {@code like}'s type, in {@code like}'s manager. */
    static NDArray of(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }
}
