package dev.distillery.distill;

import dev.distillery.error.DistilleryException;

/**
 * How a student is trained. The temperature and α are checked by
 * {@link KnowledgeDistillationLoss.Builder#build()}.
 *
 * @param epochs passes over the training images, >= 1
 * @param batchSize images per optimizer step, >= 1
 * @param learningRate AdamW step size, > 0
 * @param weightDecay AdamW decoupled weight decay, >= 0
 * @param temperature distillation temperature T
 * @param alpha weight of the teacher's term; 0 trains on the labels alone
 * @param seed fixes parameter initialisation, dropout and the batch order
 * @param device where to train
 */
public record TrainingOptions(
        int epochs,
        int batchSize,
        float learningRate,
        float weightDecay,
        float temperature,
        float alpha,
        long seed,
        TrainingDevice device) {

    public TrainingOptions {
        if (epochs < 1) {
            throw DistilleryException.invalid("epochs must be >= 1, got %d", epochs);
        }
        if (batchSize < 1) {
            throw DistilleryException.invalid("batch size must be >= 1, got %d", batchSize);
        }
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw DistilleryException.invalid("learning rate must be > 0, got %s", learningRate);
        }
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
            throw DistilleryException.invalid("weight decay must be >= 0, got %s", weightDecay);
        }
    }
}
