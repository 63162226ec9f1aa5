package dev.distillery.data;

import java.util.Arrays;

/**
 * Images with their labels, held in memory as the raw bytes a dataset file stores: the
 * {@link ImageSource} of the small formats (IDX, CIFAR), and of a student's prepared images.
 *
 * <p>The record keeps the arrays it is given rather than copying them (a training split is tens of
 * megabytes), so do not modify them afterwards. {@link #select} and {@link #first} copy what they
 * keep.
 *
 * @param count number of images
 * @param channels channels per image
 * @param height rows per image
 * @param width columns per image
 * @param pixels uint8 intensities, {@code count * channels * height * width} of them, NCHW row-major
 * @param labels one class index per image; -1 marks an image whose label is withheld
 */
public record ImageSet(int count, int channels, int height, int width, byte[] pixels, int[] labels)
        implements ImageSource {

    public ImageSet {
        if (count < 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(String.format(
                    "bad image set shape %d x %d x %d x %d", count, channels, height, width));
        }
        if (pixels.length != (long) count * channels * height * width || labels.length != count) {
            throw new IllegalArgumentException(String.format(
                    "%d images of %d x %d x %d need %d pixels and %d labels, got %d and %d",
                    count, channels, height, width, (long) count * channels * height * width, count,
                    pixels.length, labels.length));
        }
    }

    /** Values per image: {@code channels * height * width}. */
    public int imageSize() {
        return channels * height * width;
    }

    /** The images at {@code indices}, in that order (an index may repeat). */
    public ImageSet select(int[] indices) {
        return select(indices, labels(indices));
    }

    /** A copy of the images at {@code indices}, in that order, with {@code labels}. */
    @Override
    public ImageSet select(int[] indices, int[] labels) {
        int size = imageSize();
        byte[] selectedPixels = new byte[indices.length * size];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * size, selectedPixels, i * size, size);
        }
        return new ImageSet(indices.length, channels, height, width, selectedPixels, labels.clone());
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public Pixels image(int index) {
        int size = imageSize();
        return new Pixels(channels, height, width, Arrays.copyOfRange(pixels, index * size, (index + 1) * size));
    }

    @Override
    public ImageShape shape() {
        return new ImageShape(channels, height, width);
    }

    @Override
    public boolean inMemory() {
        return true;
    }

    /** The first {@code n} images, or all of them when there are fewer. */
    @Override
    public ImageSet first(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative image count " + n);
        }
        int kept = Math.min(n, count);
        return new ImageSet(
                kept, channels, height, width,
                Arrays.copyOf(pixels, kept * imageSize()), Arrays.copyOf(labels, kept));
    }
}
