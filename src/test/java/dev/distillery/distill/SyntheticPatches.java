package dev.distillery.distill;

import dev.distillery.data.ImageSet;
import java.util.Random;

/**
 * A learnable 10-class problem on 1 x 8 x 8 images: class c is a bright 2 x 2 patch at cell c of a
 * 4 x 4 grid of cells, over a dim noisy background.
 */
final class SyntheticPatches {

    static final int CLASSES = 10;
    static final int SIDE = 8;

    private SyntheticPatches() {}

    static ImageSet images(int count, long seed) {
        Random random = new Random(seed);
        byte[] pixels = new byte[count * SIDE * SIDE];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(CLASSES);
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    boolean inPatch = cell(y, x) == labels[i];
                    int value = inPatch ? 170 + random.nextInt(86) : random.nextInt(90);
                    pixels[i * SIDE * SIDE + y * SIDE + x] = (byte) value;
                }
            }
        }
        return new ImageSet(count, 1, SIDE, SIDE, pixels, labels);
    }

    /**
     * A teacher that reads the answer off the pixels, so it needs no labels: the logit of class c is
     * the mean brightness of cell c, in [0, 1], times 8.
     */
    static float[] teacherLogits(ImageSet images) {
        float[] logits = new float[images.count() * CLASSES];
        for (int i = 0; i < images.count(); i++) {
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    int c = cell(y, x);
                    if (c < CLASSES) {
                        // Four pixels a cell, each weighted 2: the cell's mean times 8.
                        int pixel = images.pixels()[i * SIDE * SIDE + y * SIDE + x] & 0xff;
                        logits[i * CLASSES + c] += pixel / 255f * 2;
                    }
                }
            }
        }
        return logits;
    }

    /** The 2 x 2 cell a pixel falls in, numbered row by row from 0 to 15. */
    private static int cell(int y, int x) {
        return (y / 2) * (SIDE / 2) + x / 2;
    }
}
