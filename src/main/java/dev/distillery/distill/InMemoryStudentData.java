package dev.distillery.distill;

import dev.distillery.data.ImageSet;
import dev.distillery.data.Normalization;
import dev.distillery.data.Permutations;
import dev.distillery.error.DistilleryException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Student data held in memory: normalised images, optionally with the teacher's logits computed once
 * beforehand (the data is not augmented, so every epoch would see the same ones). Without a teacher the
 * unlabelled images teach nothing and are left out. Epoch {@code e} visits the images in the order of a
 * permutation drawn from {@code seed} and {@code e}.
 */
public final class InMemoryStudentData implements StudentData {

    private final ImageSet train;
    private final float[] teacherLogits;
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
        this.teacherLogits = teacherLogits;
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
        return teacherLogits != null;
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
        int[] order = Permutations.random(train.count(), new Random(epochSeed(seed, epoch)));
        return batches(train, order, batchSize, teacherLogits);
    }

    @Override
    public Iterator<Batch> validation(int batchSize) {
        return batches(validation, IntStream.range(0, validation.count()).toArray(), batchSize, null);
    }

    /** The seed of epoch {@code epoch}'s random draws: distinct per epoch, fixed per run seed. */
    public static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }

    private Iterator<Batch> batches(ImageSet images, int[] order, int batchSize, float[] logits) {
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
                        logits == null ? null : rows(logits, indices));
            }
        };
    }

    private float[] rows(float[] logits, int[] indices) {
        float[] rows = new float[indices.length * classes];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(logits, indices[i] * classes, rows, i * classes, classes);
        }
        return rows;
    }

    private static ImageSet labelledOnly(ImageSet images) {
        int[] labels = images.labels();
        ImageSet labelled = images.select(IntStream.range(0, images.count()).filter(i -> labels[i] >= 0).toArray());
        if (labelled.count() == 0) {
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
        if (teacherLogits != null && teacherLogits.length != (long) train.count() * classes) {
            throw DistilleryException.invalid("teacher logits hold %d values, expected %d images x %d classes",
                    teacherLogits.length, train.count(), classes);
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
