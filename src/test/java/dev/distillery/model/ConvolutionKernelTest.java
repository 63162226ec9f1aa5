package dev.distillery.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * libtorch's 3x3 convolution against a direct computation in doubles, for the channel counts our
 * students use. libtorch 2.5.1's oneDNN AVX-512 kernels got every case with 24 input channels wrong
 * (errors of 3 to 6, or NaN) on this machine's AMD EPYC, while its AVX2 kernels got all right; this
 * test fails if the pin to AVX2 ({@code ONEDNN_MAX_CPU_ISA=AVX2} in the pom, the script, the image
 * and the pod) is dropped on such a CPU.
 */
class ConvolutionKernelTest {

    private static final int BATCH = 8;
    private static final int SIDE = 14;

    @Test
    void convolutionsAgreeWithADirectComputation() {
        Random random = new Random(1);
        List<String> wrong = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int in : new int[] {1, 3, 4, 8, 16, 24, 32}) {
                for (int out : new int[] {4, 8, 24}) {
                    double error = largestError(manager, random, in, out);
                    if (!(error < 1e-3)) {
                        wrong.add(in + "->" + out + " channels: off by " + error);
                    }
                }
            }
        }
        assertTrue(wrong.isEmpty(), "libtorch convolutions disagree with the direct computation: " + wrong
                + " (ONEDNN_MAX_CPU_ISA=" + System.getenv("ONEDNN_MAX_CPU_ISA") + ")");
    }

    private static double largestError(NDManager parent, Random random, int in, int out) {
        float[] x = gaussian(random, BATCH * in * SIDE * SIDE, 1f);
        float[] w = gaussian(random, out * in * 9, 0.3f);
        float[] b = gaussian(random, out, 1f);
        float[] got;
        try (NDManager manager = parent.newSubManager()) {
            got = Conv2d.conv2d(manager.create(x, new Shape(BATCH, in, SIDE, SIDE)),
                    manager.create(w, new Shape(out, in, 3, 3)), manager.create(b, new Shape(out)),
                    new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow().toFloatArray();
        }
        double largest = 0;
        for (int n = 0; n < BATCH; n++) {
            for (int o = 0; o < out; o++) {
                for (int y = 0; y < SIDE; y++) {
                    for (int z = 0; z < SIDE; z++) {
                        double sum = b[o];
                        for (int c = 0; c < in; c++) {
                            for (int ky = 0; ky < 3; ky++) {
                                for (int kz = 0; kz < 3; kz++) {
                                    int iy = y + ky - 1;
                                    int iz = z + kz - 1;
                                    if (iy >= 0 && iy < SIDE && iz >= 0 && iz < SIDE) {
                                        sum += (double) x[((n * in + c) * SIDE + iy) * SIDE + iz]
                                                * w[((o * in + c) * 3 + ky) * 3 + kz];
                                    }
                                }
                            }
                        }
                        double value = got[((n * out + o) * SIDE + y) * SIDE + z];
                        largest = Math.max(largest, Double.isFinite(value) ? Math.abs(value - sum) : Double.POSITIVE_INFINITY);
                    }
                }
            }
        }
        return largest;
    }

    private static float[] gaussian(Random random, int size, float scale) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian() * scale;
        }
        return values;
    }
}
