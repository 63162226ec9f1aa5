package dev.distillery.distill;

import java.util.Iterator;

/**
 * What a student trains on, as mini-batches: how images are read, preprocessed, augmented and taught is
 * the implementation's business, the trainer only consumes batches. An epoch's order (and augmentation)
 * depends on the seed and the epoch number alone, so a run resumed at epoch e sees exactly the batches an
 * uninterrupted run would have seen.
 */
public interface StudentData extends AutoCloseable {

    /** The student's input shape without the batch dimension: channels, height, width. */
    long[] inputShape();

    int classes();

    /** True when every training batch carries teacher logits. */
    boolean taught();

    /** Images one training epoch visits. */
    int trainingCount();

    /** Images scored after each epoch; 0 when nothing is held out. */
    int validationCount();

    /** The batches of training epoch {@code epoch} (1-based), at most {@code batchSize} images each. */
    Iterator<Batch> trainingEpoch(int epoch, int batchSize);

    /** The validation images, unaugmented, in a fixed order, without teacher logits. */
    Iterator<Batch> validation(int batchSize);

    /** Stops any background loading; the default holds nothing to release. */
    @Override
    default void close() {}
}
