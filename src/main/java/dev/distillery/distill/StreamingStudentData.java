package dev.distillery.distill;

import dev.distillery.data.AugmentedImage;
import dev.distillery.data.Augmenter;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageSource;
import dev.distillery.data.Prefetcher;
import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Student data read batch by batch: each batch's images are read (decoded, for an image folder),
 * augmented, prepared as the student's {@link ImagePipeline} says and paired with their teacher logits on
 * background threads, a few batches ahead of the trainer ({@link Prefetcher}), so the whole set is never
 * decoded in memory at once.
 *
 * <p>Epoch {@code e} visits the images in an order drawn from the seed and {@code e}; image {@code i}'s
 * augmentation in epoch {@code e} is drawn from the seed, {@code e} and {@code i}. The same augmented
 * image goes to the student and to the teacher when it runs on every batch. Validation images are
 * never augmented. Without a teacher the unlabelled images teach nothing and are left out.
 */
public final class StreamingStudentData implements StudentData {

    /** Background threads: the machine's two cores, shared with the trainer. */
    static final int THREADS = 2;
    /** Batches loading or ready ahead of the trainer. */
    static final int AHEAD = 3;

    private final ImageSource train;
    private final ImageSource validation;
    private final ImagePipeline student;
    private final Augmenter augmenter;
    private final TeacherLogits teacher;
    private final int classes;
    private final long seed;
    private final List<Prefetcher<Batch>> loading = new ArrayList<>();

    /**
     * @param train the training images; label -1 where only the teacher teaches
     * @param validation held-out images with their labels
     * @param student how an image becomes the student's input, normalisation included
     * @param augmenter the transforms of training images, drawn afresh each epoch
     * @param teacher where training batches' teacher logits come from; {@link TeacherLogits.Computed} rows
     *     follow {@code train}'s order
     * @throws DistilleryException INVALID_ARGUMENT when the parts do not fit together
     */
    public StreamingStudentData(ImageSource train, ImageSource validation, ImagePipeline student,
            Augmenter augmenter, TeacherLogits teacher, int classes, long seed) {
        if (train.count() == 0) {
            throw DistilleryException.invalid("there are no training images");
        }
        if (teacher instanceof TeacherLogits.Computed computed) {
            computed.check(train.count());
        }
        this.train = teacher instanceof TeacherLogits.None ? labelledOnly(train) : train;
        this.validation = validation;
        this.student = student;
        this.augmenter = augmenter;
        this.teacher = teacher;
        this.classes = classes;
        this.seed = seed;
        for (ImageSource images : List.of(this.train, validation)) {
            int highest = IntStream.range(0, images.count()).map(images::label).max().orElse(-1);
            if (highest >= classes) {
                throw DistilleryException.invalid("label %d is out of range for %d classes", highest, classes);
            }
        }
    }

    private static ImageSource labelledOnly(ImageSource images) {
        int[] labelled = InMemoryStudentData.labelledIndices(images);
        return images.select(labelled, images.labels(labelled));
    }

    @Override
    public long[] inputShape() {
        return new long[] {student.channels(), student.height(), student.width()};
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public boolean taught() {
        return !(teacher instanceof TeacherLogits.None);
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
        int[] order = Epochs.order(train.count(), seed, epoch);
        return load(order, batchSize, indices -> {
            List<AugmentedImage> images = new ArrayList<>(indices.length);
            for (int index : indices) {
                images.add(augmenter.active()
                        ? augmenter.apply(train.image(index), Epochs.imageRandom(seed, epoch, index))
                        : AugmentedImage.of(train.image(index)));
            }
            return batch(train, indices, images, teacher.of(indices, images));
        });
    }

    @Override
    public Iterator<Batch> validation(int batchSize) {
        return load(IntStream.range(0, validation.count()).toArray(), batchSize, indices -> {
            List<AugmentedImage> images = new ArrayList<>(indices.length);
            for (int index : indices) {
                images.add(AugmentedImage.of(validation.image(index)));
            }
            return batch(validation, indices, images, null);
        });
    }

    private interface BatchLoader {
        Batch load(int[] indices);
    }

    /** The batches of {@code order}, loaded ahead on background threads. */
    private synchronized Iterator<Batch> load(int[] order, int batchSize, BatchLoader loader) {
        if (batchSize < 1) {
            throw DistilleryException.invalid("batch size must be >= 1, got %d", batchSize);
        }
        // Finished ones have closed themselves; unfinished ones (a cancelled epoch) are closed by close().
        loading.removeIf(prefetcher -> !prefetcher.hasNext());
        int batches = (order.length + batchSize - 1) / batchSize;
        Prefetcher<Batch> prefetcher = new Prefetcher<>(batches, THREADS, AHEAD, b -> loader.load(
                Arrays.copyOfRange(order, b * batchSize, Math.min(order.length, (b + 1) * batchSize))));
        loading.add(prefetcher);
        return prefetcher;
    }

    private Batch batch(ImageSource images, int[] indices, List<AugmentedImage> augmented, float[] logits) {
        int size = student.imageSize();
        float[] inputs = new float[indices.length * size];
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            student.normalize(student.prepare(augmented.get(i)), inputs, i * size);
            labels[i] = images.label(indices[i]);
        }
        return new Batch(indices.length, inputs, labels, logits);
    }

    @Override
    public synchronized void close() {
        loading.forEach(Prefetcher::close);
        loading.clear();
    }
}
