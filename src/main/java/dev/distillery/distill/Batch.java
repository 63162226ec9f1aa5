package dev.distillery.distill;

/**
 * One mini-batch as the student trains or is scored on it.
 *
 * @param size images in the batch
 * @param inputs preprocessed student inputs, {@code size x C x H x W} floats, NCHW row-major
 * @param labels one class index per image; -1 marks an image taught by the teacher alone
 * @param teacherLogits the teacher's logits for exactly these inputs, {@code size x classes} row-major;
 *     null when the student learns from labels alone
 */
public record Batch(int size, float[] inputs, int[] labels, float[] teacherLogits) {}
