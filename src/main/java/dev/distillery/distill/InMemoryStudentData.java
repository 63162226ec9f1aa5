package dev.distillery.distill;

import dev.distillery.data.ImageSet;
import dev.distillery.data.ImageSource;
import dev.distillery.data.Normalization;
import dev.distillery.error.DistilleryException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.IntStream;

/**
 * Student data held in memory: normalised images, optionally with the teacher's logits computed once
 * beforehand (the data is not augmented, so every epoch would see the same ones). Without a teacher the
 * unlabelled images teach nothing and are left out. Epoch {@code e} visits the images in the order of a
 * permutation drawn from {@code seed} and {@code e}.
 */
public final class InMemoryStudentData implements StudentData {

    private final ImageSet train;
    private final TeacherLogits teacher;
    private final ImageSet validation;
    private final Normalization normalization;
    private final int classes;
    private final long seed;

    /**
     * @param teacherLogits the teacher's logits for {@code train}, row-major (images x classes), in the
     *     same order; null to train on labels alone
     * @throws DistilleryException INVALID_ARGUMENT when the parts do not fit together
     */
    public InMemoryStudentData(ImageSet train, float[] teacherLogits, ImageSet validation,
            Normalization normalization, int classes, long seed) {
        this.train = teacherLogits == null ? labelledOnly(train) : train;
        this.teacher = teacherLogits == null ? new TeacherLogits.None() : new TeacherLogits.Computed(teacherLogits, classes);
        this.validation = validation;
        this.normalization = normalization;
        this.classes = classes;
        this.seed = seed;
        check();
    }

    @Override
    public long[] inputShape() {
        return new long[] {train.channels(), train.height(), train.width()};
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public boolean taught() {
        return teacher instanceof TeacherLogits.Computed;
    }

    @Override
    public int trainingCount() {
        return train.count();
    }

    @Override
    public int validationCount() {
        return validation.count();
    }

    @Override
    public Iterator<Batch> trainingEpoch(int epoch, int batchSize) {
        return batches(train, Epochs.order(train.count(), seed, epoch), batchSize, teacher);
    }

    @Override
    public Iterator<Batch> validation(int batchSize) {
        return batches(validation, IntStream.range(0, validation.count()).toArray(), batchSize,
                new TeacherLogits.None());
    }

    private Iterator<Batch> batches(ImageSet images, int[] order, int batchSize, TeacherLogits logits) {
        return new Iterator<>() {
            private int from;

            @Override
            public boolean hasNext() {
                return from < order.length;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int[] indices = Arrays.copyOfRange(order, from, Math.min(order.length, from + batchSize));
                from += indices.length;
                int[] labels = new int[indices.length];
                for (int i = 0; i < indices.length; i++) {
                    labels[i] = images.labels()[indices[i]];
                }
                return new Batch(indices.length, normalization.apply(images, indices), labels,
                        logits.of(indices, List.of()));
            }
        };
    }

    private static ImageSet labelledOnly(ImageSet images) {
        return images.select(labelledIndices(images));
    }

    /**
     * The images that have a label: all a student can learn from without a teacher.
     *
     * @throws DistilleryException INVALID_ARGUMENT when there are none
     */
    static int[] labelledIndices(ImageSource images) {
        int[] labelled = images.labelledIndices();
        if (labelled.length == 0) {
            throw DistilleryException.invalid(
                    "none of the %d training images has a label, and there is no teacher to learn from",
                    images.count());
        }
        return labelled;
    }

    private void check() {
        if (train.count() == 0) {
            throw DistilleryException.invalid("there are no training images");
        }
        if (teacher instanceof TeacherLogits.Computed computed) {
            computed.check(train.count());
        }
        if (validation.count() > 0 && (validation.channels() != train.channels()
                || validation.height() != train.height() || validation.width() != train.width())) {
            throw DistilleryException.invalid("validation images are %dx%dx%d but training images are %dx%dx%d",
                    validation.channels(), validation.height(), validation.width(),
                    train.channels(), train.height(), train.width());
        }
        for (ImageSet images : new ImageSet[] {train, validation}) {
            int highest = Arrays.stream(images.labels()).max().orElse(-1);
            if (highest >= classes) {
                throw DistilleryException.invalid("label %d is out of range for %d classes", highest, classes);
            }
        }
    }
}
