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
        if (images.count() == 0) {
            throw DistilleryException.invalid("cannot fit a normalization to an empty image set");
        }
        int channels = images.channels();
        int plane = images.height() * images.width();
        // Integer sums are exact: squared, 60 000 Fashion-MNIST images sum to about 3e12, far below 2^63.
        long[] sum = new long[channels];
        long[] sumOfSquares = new long[channels];
        byte[] pixels = images.pixels();
        for (int i = 0; i < pixels.length; i++) {
            int c = (i / plane) % channels;
            int p = pixels[i] & 0xff;
            sum[c] += p;
            sumOfSquares[c] += p * p;
        }
        double n = (double) images.count() * plane;
        float[] mean = new float[channels];
        float[] std = new float[channels];
        for (int c = 0; c < channels; c++) {
            double m = sum[c] / n / 255;
            double variance = Math.max(0, sumOfSquares[c] / n / (255.0 * 255.0) - m * m);
            mean[c] = (float) m;
            std[c] = variance > 0 ? (float) Math.sqrt(variance) : 1f;
        }
        return new Normalization(mean, std);
    }

    /** Number of channels this normalisation covers. */
    public int channels() {
        return mean.length;
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
        // One table lookup per pixel instead of a subtraction and a division.
        float[][] table = new float[channels()][256];
        for (int c = 0; c < channels(); c++) {
            for (int p = 0; p < 256; p++) {
                table[c][p] = (p / 255f - mean[c]) / std[c];
            }
        }
        int plane = images.height() * images.width();
        int size = images.imageSize();
        byte[] pixels = images.pixels();
        float[] out = new float[indices.length * size];
        for (int i = 0; i < indices.length; i++) {
            int from = indices[i] * size;
            for (int j = 0; j < size; j++) {
                out[i * size + j] = table[j / plane][pixels[from + j] & 0xff];
            }
        }
        return out;
    }
}
