package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.util.Arrays;
import java.util.Random;

/**
 * The images a run trains and validates on, derived deterministically from a seed.
 *
 * <p>Of the first {@code limit} images, a seeded shuffle puts {@code round(n * validationFraction)}
 * into {@link #validation()} and the rest into {@link #train()}. Of the training images, the first
 * {@code round(train * labelledFraction)} in shuffled order (so a random choice, fixed by the seed)
 * keep their labels; the others get label -1 and are taught by the teacher alone (a transfer set).
 *
 * @param train training images; label -1 where the label is withheld
 * @param validation held-out images with their labels; empty when the validation fraction is 0
 * @param labelledCount training images that kept their label
 */
public record TrainingSplit(ImageSet train, ImageSet validation, int labelledCount) {

    /**
     * Splits {@code images} held in memory; see {@link Plan#of} for the arguments.
     *
     * @throws DistilleryException INVALID_ARGUMENT for a fraction out of range, a negative limit or a
     *     split that leaves no training image
     */
    public static TrainingSplit of(
            ImageSet images, int limit, float validationFraction, float labelledFraction, long seed) {
        Plan plan = Plan.of(images.count(), limit, validationFraction, labelledFraction, seed);
        return new TrainingSplit(images.select(plan.train(), plan.trainLabels(images)),
                images.select(plan.validation()), plan.labelledCount());
    }

    /**
     * The split as positions in the source, for images of any format.
     *
     * @param train positions of the training images, in shuffled order
     * @param validation positions of the validation images
     * @param labelledCount how many of the first training images keep their label
     */
    public record Plan(int[] train, int[] validation, int labelledCount) {

        /**
         * @param count images in the source
         * @param limit use only the first {@code limit} images; 0 for all
         * @param validationFraction share held out for validation, in [0, 1)
         * @param labelledFraction share of the training images that keep their labels, in (0, 1]
         * @param seed fixes the shuffle and so both choices
         * @throws DistilleryException INVALID_ARGUMENT as {@link TrainingSplit#of}
         */
        public static Plan of(int count, int limit, float validationFraction, float labelledFraction, long seed) {
            if (limit < 0) {
                throw DistilleryException.invalid("train limit must be >= 0 (0 = all images), got %d", limit);
            }
            if (!(validationFraction >= 0 && validationFraction < 1)) {
                throw DistilleryException.invalid(
                        "validation fraction must be in [0, 1), got %s", validationFraction);
            }
            if (!(labelledFraction > 0 && labelledFraction <= 1)) {
                throw DistilleryException.invalid(
                        "labelled fraction must be in (0, 1], got %s", labelledFraction);
            }
            int n = limit == 0 ? count : Math.min(limit, count);
            int validationCount = Math.round(n * validationFraction);
            int trainCount = n - validationCount;
            if (trainCount == 0) {
                throw DistilleryException.invalid(
                        "no training images left: %d images with validation fraction %s", n, validationFraction);
            }
            int[] order = Permutations.random(n, new Random(seed));
            return new Plan(Arrays.copyOfRange(order, validationCount, n), Arrays.copyOfRange(order, 0, validationCount),
                    Math.round(trainCount * labelledFraction));
        }

        /** The training images' labels: their own for the first {@link #labelledCount}, -1 for the rest. */
        public int[] trainLabels(ImageSource images) {
            int[] labels = images.labels(train);
            Arrays.fill(labels, labelledCount, labels.length, -1);
            return labels;
        }

        /** The training images of {@code images}, labels withheld as planned. */
        public ImageSource train(ImageSource images) {
            return images.select(train, trainLabels(images));
        }

        /** The validation images of {@code images}, with their labels. */
        public ImageSource validation(ImageSource images) {
            return images.select(validation, images.labels(validation));
        }
    }
}
