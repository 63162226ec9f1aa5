package dev.distillery.data;

/**
 * Bilinear resizing that smooths when it shrinks, as PIL's {@code BILINEAR} filter and torchvision's
 * {@code Resize} (antialias on) do. Separable: rows first, then columns. For output pixel {@code i} of
 * an axis scaled by {@code s = in / out}, with {@code f = max(s, 1)}:
 *
 * <pre>
 *   center = (i + 0.5) s
 *   out[i] = sum_j w(j) in[j] / sum_j w(j),  w(j) = max(0, 1 - |j + 0.5 - center| / f)
 * </pre>
 *
 * over the input pixels {@code j} inside the image, so edges are renormalised rather than padded.
 * Enlarging ({@code f = 1}) is plain bilinear interpolation between pixel centres; shrinking widens
 * the triangle to average every input pixel the output pixel covers. Intermediate values stay in
 * floating point; the result is rounded to the nearest integer and clamped to 0-255.
 */
public final class BilinearResize {

    private BilinearResize() {}

    /** {@code image} resized to {@code height x width}; the same object when the size already matches. */
    public static Pixels resize(Pixels image, int height, int width) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("cannot resize to " + height + " x " + width);
        }
        if (image.height() == height && image.width() == width) {
            return image;
        }
        Taps columns = Taps.of(image.width(), width);
        Taps rows = Taps.of(image.height(), height);
        int channels = image.channels();
        byte[] in = image.values();
        float[] wide = new float[channels * image.height() * width];
        for (int row = 0; row < channels * image.height(); row++) {
            int from = row * image.width();
            for (int x = 0; x < width; x++) {
                float sum = 0;
                for (int k = 0; k < columns.count[x]; k++) {
                    sum += columns.weights[x][k] * (in[from + columns.first[x] + k] & 0xff);
                }
                wide[row * width + x] = sum;
            }
        }
        byte[] out = new byte[channels * height * width];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    float sum = 0;
                    for (int k = 0; k < rows.count[y]; k++) {
                        sum += rows.weights[y][k] * wide[(c * image.height() + rows.first[y] + k) * width + x];
                    }
                    out[(c * height + y) * width + x] = (byte) Math.max(0, Math.min(255, Math.round(sum)));
                }
            }
        }
        return new Pixels(channels, height, width, out);
    }

    /** For each output pixel of one axis: its first input pixel, how many it reads, and their weights. */
    private record Taps(int[] first, int[] count, float[][] weights) {

        static Taps of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1);
            int[] first = new int[outSize];
            int[] count = new int[outSize];
            float[][] weights = new float[outSize][];
            for (int i = 0; i < outSize; i++) {
                double center = (i + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(center - filterScale));
                int hi = Math.min(inSize, (int) Math.ceil(center + filterScale));
                double[] w = new double[hi - lo];
                double total = 0;
                for (int j = lo; j < hi; j++) {
                    w[j - lo] = Math.max(0, 1 - Math.abs(j + 0.5 - center) / filterScale);
                    total += w[j - lo];
                }
                first[i] = lo;
                count[i] = w.length;
                weights[i] = new float[w.length];
                for (int k = 0; k < w.length; k++) {
                    weights[i][k] = (float) (w[k] / total);
                }
            }
            return new Taps(first, count, weights);
        }
    }
}
