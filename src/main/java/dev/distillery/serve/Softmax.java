package dev.distillery.serve;

/** softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z); the max shift keeps exp finite. */
public final class Softmax {

    private Softmax() {}

    public static float[] of(float[] logits, int offset, int length) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        float[] out = new float[length];
        for (int i = 0; i < length; i++) {
            out[i] = (float) Math.exp(logits[offset + i] - max);
            sum += out[i];
        }
        for (int i = 0; i < length; i++) {
            out[i] /= (float) sum;
        }
        return out;
    }
}
