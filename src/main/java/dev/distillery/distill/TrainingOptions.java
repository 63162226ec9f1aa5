package dev.distillery.distill;

import dev.distillery.distill.methods.DistillationMethod;
import dev.distillery.distill.methods.DistillationMethods;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Schedule;

/**
 * How one student is trained, taken from a recipe that {@link Recipes} has resolved (every default
 * filled in, every range checked): the trainer trusts these values.
 *
 * @param epochs passes over the training images
 * @param batchSize images per optimizer step
 * @param distillation one setting of the method (no sweep)
 * @param labelSmoothing of the cross-entropy term
 * @param optimizer name and settings
 * @param schedule of the learning rate over the epochs
 * @param patience epochs without a better validation accuracy before training stops; 0 = never
 * @param seed fixes parameter initialisation, dropout and the batch order
 * @param device where to train
 */
public record TrainingOptions(
        int epochs,
        int batchSize,
        Distillation distillation,
        float labelSmoothing,
        OptimizerSpec optimizer,
        Schedule schedule,
        int patience,
        long seed,
        TrainingDevice device) {

    /** The options of a resolved {@code recipe} for {@code setting}, one of {@link SweepRun#settings}. */
    public static TrainingOptions of(Recipe recipe, Distillation setting, TrainingDevice device) {
        return new TrainingOptions(recipe.getEpochs(), recipe.getBatchSize(), setting, recipe.getLabelSmoothing(),
                recipe.getOptimizer(), recipe.getSchedule(), recipe.getEarlyStopping().getPatience(),
                recipe.getSeed(), device);
    }

    public DistillationMethod method() {
        return DistillationMethods.get(distillation.getMethod());
    }
}
