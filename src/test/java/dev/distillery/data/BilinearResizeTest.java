package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class BilinearResizeTest {

    private static Pixels row(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return new Pixels(1, 1, values.length, bytes);
    }

    private static int[] values(Pixels image) {
        int[] out = new int[image.values().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = image.values()[i] & 0xff;
        }
        return out;
    }

    @Test
    void theSameSizeIsTheSameImage() {
        Pixels image = row(1, 2, 3);
        assertSame(image, BilinearResize.resize(image, 1, 3));
    }

    @Test
    void enlargingInterpolatesBetweenPixelCentresAndHoldsTheEdges() {
        // 2 -> 4: output centres fall at input positions -0.25, 0.25, 0.75, 1.25 (in pixel-centre units).
        assertArrayEquals(new int[] {0, 50, 150, 200}, values(BilinearResize.resize(row(0, 200), 1, 4)));
    }

    @Test
    void shrinkingAveragesWhatEachOutputPixelCovers() {
        // Halving a staircase floor(x / 2): the widened triangle over 4 input pixels (weights 1, 3, 3, 1)
        // gives back each step exactly; the edges renormalise over the pixels inside the image.
        assertArrayEquals(new int[] {0, 1, 2, 3}, values(BilinearResize.resize(row(0, 0, 1, 1, 2, 2, 3, 3), 1, 4)));
        // Without the widening, sampling a fine checkerboard at half size would give all 0s or all 255s;
        // with it the middle pixel is the even mix and the edge pixels average the 3 pixels inside the image.
        assertArrayEquals(new int[] {109, 128, 146},
                values(BilinearResize.resize(row(0, 255, 0, 255, 0, 255), 1, 3)));
    }

    @Test
    void bothAxesAndEveryChannelAreResized() {
        byte[] values = new byte[3 * 2 * 2];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 4; i++) {
                values[c * 4 + i] = (byte) (60 * c + 10);
            }
        }
        Pixels constant = BilinearResize.resize(new Pixels(3, 2, 2, values), 5, 3);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 15; i++) {
                assertArrayEquals(new int[] {60 * c + 10}, new int[] {constant.get(c, i / 3, i % 3)});
            }
        }
    }
}
