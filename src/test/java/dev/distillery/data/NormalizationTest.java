package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.distillery.error.DistilleryException;
import org.junit.jupiter.api.Test;

class NormalizationTest {

    /** Two images of 2 channels x 1 x 2: channel 0 holds 0, 51, 102, 153; channel 1 is constant 255. */
    private static final ImageSet IMAGES = new ImageSet(2, 2, 1, 2,
            new byte[] {0, 51, (byte) 255, (byte) 255, 102, (byte) 153, (byte) 255, (byte) 255},
            new int[] {0, 1});

    @Test
    void fitsPerChannelMeanAndStd() {
        Normalization fitted = Normalization.fit(IMAGES);

        // Channel 0 is 0, 0.2, 0.4, 0.6: mean 0.3, population variance 0.05.
        assertArrayEquals(new float[] {0.3f, 1f}, fitted.mean(), 1e-6f);
        assertEquals((float) Math.sqrt(0.05), fitted.std()[0], 1e-6f);
        assertEquals(1f, fitted.std()[1], "a constant channel gets std 1");
    }

    @Test
    void appliesTheFormulaInNchwOrder() {
        Normalization normalization = new Normalization(new float[] {0.5f, 0.25f}, new float[] {0.5f, 2f});

        float[] second = normalization.apply(IMAGES, new int[] {1});

        // Channel 0: (0.4 - 0.5) / 0.5 and (0.6 - 0.5) / 0.5; channel 1: (1 - 0.25) / 2.
        assertArrayEquals(new float[] {-0.2f, 0.2f, 0.375f, 0.375f}, second, 1e-6f);
        float[] first = normalization.apply(IMAGES, new int[] {0});
        float[] batch = normalization.apply(IMAGES, new int[] {1, 0, 1});
        float[] expected = new float[12];
        System.arraycopy(second, 0, expected, 0, 4);
        System.arraycopy(first, 0, expected, 4, 4);
        System.arraycopy(second, 0, expected, 8, 4);
        assertArrayEquals(expected, batch, "each image in its place, in the order asked");
    }

    @Test
    void rejectsMismatchedChannelsAndZeroStd() {
        Normalization gray = new Normalization(new float[] {0.5f}, new float[] {0.5f});
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT,
                assertThrows(DistilleryException.class, () -> gray.apply(IMAGES, new int[] {0})).kind());
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, assertThrows(DistilleryException.class,
                () -> new Normalization(new float[] {0.5f}, new float[] {0f})).kind());
    }
}
