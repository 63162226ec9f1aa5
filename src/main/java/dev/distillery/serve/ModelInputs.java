package dev.distillery.serve;

import dev.distillery.data.AugmentedImage;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageSource;
import dev.distillery.data.Prefetcher;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Images run through one model the way its model.json says to prepare them ({@link LoadedModel#pipeline}),
 * so a teacher trained elsewhere sees inputs as it was trained on them, whatever size and colour the
 * student takes. Serves evaluation, the teacher's logits computed once, and the teacher run on each
 * augmented batch.
 */
public final class ModelInputs {

    private static final int BATCH = 256;
    /** Two background threads prepare and run batches: the machine's two cores. */
    private static final int THREADS = 2;

    private final LoadedModel model;
    private final ImagePipeline pipeline;

    private ModelInputs(LoadedModel model) {
        this.model = model;
        this.pipeline = model.pipeline();
    }

    public static ModelInputs of(LoadedModel model) {
        return new ModelInputs(model);
    }

    /**
     * Logits of every image of {@code images}, row-major (images x classes), computed in batches that are
     * read and prepared on background threads.
     */
    public float[] logits(ImageSource images) {
        int classes = model.classes();
        int count = images.count();
        float[] out = new float[count * classes];
        int batches = (count + BATCH - 1) / BATCH;
        try (Prefetcher<float[]> runs = new Prefetcher<>(batches, THREADS, THREADS + 1, b -> {
            int start = b * BATCH;
            int n = Math.min(BATCH, count - start);
            FloatBuffer buffer = model.newInputBuffer(n);
            for (int i = start; i < start + n; i++) {
                pipeline.normalize(pipeline.prepare(images.image(i)), buffer);
            }
            return model.logits(buffer, n);
        })) {
            for (int b = 0; runs.hasNext(); b++) {
                float[] logits = runs.next();
                System.arraycopy(logits, 0, out, b * BATCH * classes, logits.length);
            }
        }
        return out;
    }

    /** Logits of augmented images, row-major, from one run: the teacher's view of a training batch. */
    public float[] logits(List<AugmentedImage> images) {
        FloatBuffer buffer = model.newInputBuffer(images.size());
        for (AugmentedImage image : images) {
            pipeline.normalize(pipeline.prepare(image), buffer);
        }
        return model.logits(buffer, images.size());
    }

    /** The input floats of image {@code index}: what a Predict call with this tensor would send. */
    public float[] input(ImageSource images, int index) {
        float[] floats = new float[pipeline.imageSize()];
        pipeline.normalize(pipeline.prepare(images.image(index)), floats, 0);
        return floats;
    }
}
