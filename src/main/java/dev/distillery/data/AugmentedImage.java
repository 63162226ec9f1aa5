package dev.distillery.data;

/**
 * A training image after augmentation, before any model's own preprocessing: the same object goes to
 * the student and to the teacher, and each turns it into its input with its own {@link ImagePipeline}.
 *
 * @param pixels the augmented image, in the dataset's colour
 * @param cropped true when a random resized crop chose the region: each model then resizes it straight to
 *     its input size instead of applying its own resize and center crop
 */
public record AugmentedImage(Pixels pixels, boolean cropped) {

    /** An image as it is, not augmented. */
    public static AugmentedImage of(Pixels pixels) {
        return new AugmentedImage(pixels, false);
    }
}
