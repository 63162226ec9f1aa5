package dev.distillery.serve;

/** One input to classify: an encoded image, or a tensor already preprocessed for the model. */
public sealed interface ModelInput {

    record Image(byte[] encoded) implements ModelInput {}

    /** {@code shape} must equal the model's input shape (C, H, W). */
    record Tensor(long[] shape, float[] values) implements ModelInput {}
}
