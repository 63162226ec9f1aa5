package dev.distillery.distill;

import dev.distillery.data.AugmentedImage;
import dev.distillery.error.DistilleryException;
import java.util.List;
import java.util.function.Function;

/** Where the teacher's logits of a training batch come from. */
public sealed interface TeacherLogits {

    /**
     * The logits of one batch, row-major (images x classes), or null without a teacher.
     *
     * @param indices the batch's positions among the training images
     * @param images the batch's images, augmented as the student sees them
     */
    float[] of(int[] indices, List<AugmentedImage> images);

    /** No teacher: the student learns from labels alone. */
    record None() implements TeacherLogits {

        @Override
        public float[] of(int[] indices, List<AugmentedImage> images) {
            return null;
        }
    }

    /**
     * Computed once for every training image, beforehand: right when the images are not augmented, so
     * every epoch would compute the same ones.
     *
     * @param logits row-major, one row per training image, in the training images' order
     */
    record Computed(float[] logits, int classes) implements TeacherLogits {

        /** @throws DistilleryException INVALID_ARGUMENT when there is not one row per training image */
        public void check(int images) {
            if (logits.length != (long) images * classes) {
                throw DistilleryException.invalid("teacher logits hold %d values, expected %d images x %d classes",
                        logits.length, images, classes);
            }
        }

        @Override
        public float[] of(int[] indices, List<AugmentedImage> images) {
            float[] rows = new float[indices.length * classes];
            for (int i = 0; i < indices.length; i++) {
                System.arraycopy(logits, indices[i] * classes, rows, i * classes, classes);
            }
            return rows;
        }
    }

    /**
     * The teacher runs on every batch, on the very images the student gets: consistent teaching (Beyer et
     * al. 2022), needed once images are augmented, since every epoch shows different views.
     *
     * @param teacher the teacher's logits of a list of images, row-major
     */
    record EveryBatch(Function<List<AugmentedImage>, float[]> teacher) implements TeacherLogits {

        @Override
        public float[] of(int[] indices, List<AugmentedImage> images) {
            return teacher.apply(images);
        }
    }
}
