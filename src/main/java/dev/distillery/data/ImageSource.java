package dev.distillery.data;

import java.util.stream.IntStream;

/**
 * The images of one dataset split with their labels, whatever the format: held in memory
 * ({@link ImageSet}) or read from files on demand ({@link ImageFiles}). Images are numbered from 0;
 * {@link #image} may be called from several threads at once.
 */
public interface ImageSource {

    int count();

    /** The class index of image {@code index}; -1 when it has no label (a transfer-set image). */
    int label(int index);

    /** Image {@code index}, in its own size and colour. */
    Pixels image(int index);

    /** The images' colour, and their size when they share one. */
    ImageShape shape();

    /** True when the pixels are in memory, so reading every image is cheap. */
    boolean inMemory();

    /** The images at {@code indices}, in that order, with {@code labels} in place of their own. */
    default ImageSource select(int[] indices, int[] labels) {
        return new SelectedImages(this, indices, labels);
    }

    /** The first {@code n} images, or all of them when there are fewer. */
    default ImageSource first(int n) {
        int[] indices = IntStream.range(0, Math.min(n, count())).toArray();
        return select(indices, labels(indices));
    }

    /** The labels of the images at {@code indices}. */
    default int[] labels(int[] indices) {
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            labels[i] = label(indices[i]);
        }
        return labels;
    }

    /** Indices of the images that have a label. */
    default int[] labelledIndices() {
        return IntStream.range(0, count()).filter(i -> label(i) >= 0).toArray();
    }

    /** {@code first}'s images, then {@code second}'s. */
    static ImageSource concat(ImageSource first, ImageSource second) {
        return second.count() == 0 ? first : first.count() == 0 ? second : new JoinedImages(first, second);
    }
}
