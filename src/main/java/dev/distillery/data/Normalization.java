package dev.distillery.data;

import dev.distillery.error.DistilleryException;

/**
 * Per-channel input normalisation: {@code x = (p / 255 - mean[c]) / std[c]} for a uint8 pixel
 * {@code p} of channel {@code c}. The same values go into the exported model's preprocessing, so
 * training and serving see identical inputs.
 *
 * @param mean per-channel mean of {@code p / 255}
 * @param std per-channel standard deviation of {@code p / 255}, each > 0
 */
public record Normalization(float[] mean, float[] std) {

    public Normalization {
        if (mean.length == 0 || mean.length != std.length) {
            throw DistilleryException.invalid(
                    "normalization needs one mean and one std per channel, got %d means and %d stds",
                    mean.length, std.length);
        }
        for (int c = 0; c < std.length; c++) {
            if (!(std[c] > 0) || !Float.isFinite(std[c]) || !Float.isFinite(mean[c])) {
                throw DistilleryException.invalid(
                        "normalization of channel %d needs a finite mean and std > 0, got mean %s, std %s",
                        c, mean[c], std[c]);
            }
        }
    }

    /**
     * Mean and population standard deviation of {@code p / 255} per channel over every pixel of
     * {@code images}: {@code mean = S1 / n}, {@code std = sqrt(S2 / n - mean^2)} with
     * {@code S1 = sum p / 255}, {@code S2 = sum (p / 255)^2}. A constant channel gets std 1, so that
     * it maps to 0 instead of dividing by zero.
     */
    public static Normalization fit(ImageSet images) {
        Sums sums = new Sums(images.channels());
        sums.add(images.pixels(), images.height() * images.width());
        return sums.fit();
    }

    /**
     * Running sums of the pixels of images of one channel count, for {@link #fit}ting a normalisation
     * to images seen one at a time (a sample of an image folder, say). Sums are exact integers:
     * squared, 60 000 Fashion-MNIST images sum to about 3e12, far below 2^63.
     */
    public static final class Sums {

        private final long[] sum;
        private final long[] sumOfSquares;
        private long pixelsPerChannel;

        public Sums(int channels) {
            sum = new long[channels];
            sumOfSquares = new long[channels];
        }

        /** Adds one image. */
        public void add(Pixels image) {
            if (image.channels() != sum.length) {
                throw new IllegalArgumentException(
                        "fitting " + sum.length + " channels, got an image of " + image.channels());
            }
            add(image.values(), image.height() * image.width());
        }

        /** Adds whole images, CHW, of {@code plane} pixels per channel. */
        private void add(byte[] pixels, int plane) {
            int channels = sum.length;
            for (int i = 0; i < pixels.length; i++) {
                int c = (i / plane) % channels;
                int p = pixels[i] & 0xff;
                sum[c] += p;
                sumOfSquares[c] += p * p;
            }
            pixelsPerChannel += pixels.length / channels;
        }

        /** The normalisation of everything added; see {@link Normalization#fit}. */
        public Normalization fit() {
            if (pixelsPerChannel == 0) {
                throw DistilleryException.invalid("cannot fit a normalization to an empty image set");
            }
            double n = pixelsPerChannel;
            float[] mean = new float[sum.length];
            float[] std = new float[sum.length];
            for (int c = 0; c < sum.length; c++) {
                double m = sum[c] / n / 255;
                double variance = Math.max(0, sumOfSquares[c] / n / (255.0 * 255.0) - m * m);
                mean[c] = (float) m;
                std[c] = variance > 0 ? (float) Math.sqrt(variance) : 1f;
            }
            return new Normalization(mean, std);
        }
    }

    /** Number of channels this normalisation covers. */
    public int channels() {
        return mean.length;
    }

    /**
     * {@code table()[c][p]} is the normalised value of pixel value {@code p} in channel {@code c}: one
     * lookup per pixel instead of a subtraction and a division.
     */
    public float[][] table() {
        float[][] table = new float[channels()][256];
        for (int c = 0; c < channels(); c++) {
            for (int p = 0; p < 256; p++) {
                table[c][p] = (p / 255f - mean[c]) / std[c];
            }
        }
        return table;
    }

    /**
     * The normalised images at {@code indices}, NCHW row-major: {@code indices.length * channels *
     * height * width} values.
     */
    public float[] apply(ImageSet images, int[] indices) {
        if (images.channels() != channels()) {
            throw DistilleryException.invalid(
                    "normalization is for %d channels but the images have %d", channels(), images.channels());
        }
        float[][] table = table();
        int plane = images.height() * images.width();
        int size = images.imageSize();
        byte[] pixels = images.pixels();
        float[] out = new float[indices.length * size];
        // Plane by plane: a division per pixel to find its channel was the largest Java-side cost of a small
        // student's training step.
        for (int i = 0; i < indices.length; i++) {
            for (int c = 0; c < table.length; c++) {
                float[] values = table[c];
                int from = indices[i] * size + c * plane;
                int to = i * size + c * plane;
                for (int j = 0; j < plane; j++) {
                    out[to + j] = values[pixels[from + j] & 0xff];
                }
            }
        }
        return out;
    }
}
