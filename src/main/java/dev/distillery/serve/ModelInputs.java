package dev.distillery.serve;

import dev.distillery.data.ImageSet;
import dev.distillery.error.DistilleryException;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A dataset's images prepared as one model expects them: checked against its input shape and
 * normalised with the mean and std of its model.json, so a teacher trained elsewhere sees inputs
 * the way it was trained on them.
 */
public final class ModelInputs {

    private static final int BATCH = 256;

    private final float[] values;
    private final int imageSize;

    private ModelInputs(float[] values, int imageSize) {
        this.values = values;
        this.imageSize = imageSize;
    }

    public static ModelInputs of(LoadedModel model, ImageSet images) {
        if (images.channels() != model.channels() || images.height() != model.height() || images.width() != model.width()) {
            throw DistilleryException.invalid("model %s/%d takes %dx%dx%d inputs but the dataset's images are %dx%dx%d",
                    model.info().getName(), model.info().getVersion(), model.channels(), model.height(), model.width(),
                    images.channels(), images.height(), images.width());
        }
        int[] all = new int[images.count()];
        Arrays.setAll(all, i -> i);
        return new ModelInputs(model.normalization().apply(images, all), model.imageSize());
    }

    /** The prepared floats of images {@code start .. start + n - 1}. */
    public float[] range(int start, int n) {
        return Arrays.copyOfRange(values, start * imageSize, (start + n) * imageSize);
    }

    /** Logits of every image (row-major, images x classes), computed in batches. */
    public float[] logits(LoadedModel model) {
        int count = values.length / imageSize;
        float[] out = new float[count * model.classes()];
        for (int start = 0; start < count; start += BATCH) {
            int n = Math.min(BATCH, count - start);
            FloatBuffer buffer = model.newInputBuffer(n);
            buffer.put(values, start * imageSize, n * imageSize);
            System.arraycopy(model.logits(buffer, n), 0, out, start * model.classes(), n * model.classes());
        }
        return out;
    }
}
