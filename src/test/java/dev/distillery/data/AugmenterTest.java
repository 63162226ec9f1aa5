package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FloatValue;
import dev.distillery.v1.Augmentation;
import dev.distillery.v1.RandomResizedCrop;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AugmenterTest {

    /** 15 x 15 gray with values 1..225, all distinct and none 0, so a pixel tells where it came from. */
    private static Pixels numbered() {
        byte[] values = new byte[15 * 15];
        for (int i = 0; i < values.length; i++) {
            values[i] = (byte) (i + 1);
        }
        return new Pixels(1, 15, 15, values);
    }

    private static Pixels rgb(int height, int width, long seed) {
        byte[] values = new byte[3 * height * width];
        new Random(seed).nextBytes(values);
        return new Pixels(3, height, width, values);
    }

    @Test
    void aFlipMirrorsEveryRowExactly() {
        Pixels image = rgb(4, 5, 1);
        Pixels flipped = image.mirrored();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    assertEquals(image.get(c, y, x), flipped.get(c, y, 4 - x));
                }
            }
        }
        assertArrayEquals(image.values(), flipped.mirrored().values());
    }

    @Test
    void flippingIsACoinTossPerImage() {
        Augmenter flip = Augmenter.of(Augmentation.newBuilder().setHorizontalFlip(true).build());
        Pixels image = numbered();
        int flipped = 0;
        Random random = new Random(7);
        for (int draw = 0; draw < 200; draw++) {
            AugmentedImage out = flip.apply(image, random);
            assertFalse(out.cropped());
            if (Arrays.equals(out.pixels().values(), image.mirrored().values())) {
                flipped++;
            } else {
                assertArrayEquals(image.values(), out.pixels().values());
            }
        }
        assertTrue(flipped > 60 && flipped < 140, flipped + " of 200 flipped");
    }

    @Test
    void aPaddedCropKeepsTheSizeAndShiftsByAtMostThePadding() {
        Augmenter crop = Augmenter.of(Augmentation.newBuilder().setRandomCropPadding(3).build());
        Pixels image = numbered();
        Set<String> offsets = new HashSet<>();
        Random random = new Random(8);
        for (int draw = 0; draw < 300; draw++) {
            Pixels out = crop.apply(image, random).pixels();
            assertEquals(image.shape(), out.shape());
            // Output (y, x) shows input (y + dy, x + dx), or 0 where that falls outside the image.
            int[] offset = null;
            for (int y = 0; y < 15 && offset == null; y++) {
                for (int x = 0; x < 15 && offset == null; x++) {
                    int v = out.get(0, y, x);
                    if (v != 0) {
                        offset = new int[] {(v - 1) / 15 - y, (v - 1) % 15 - x};
                    }
                }
            }
            assertTrue(Math.abs(offset[0]) <= 3 && Math.abs(offset[1]) <= 3, Arrays.toString(offset));
            for (int y = 0; y < 15; y++) {
                for (int x = 0; x < 15; x++) {
                    int sy = y + offset[0];
                    int sx = x + offset[1];
                    int expected = sy >= 0 && sy < 15 && sx >= 0 && sx < 15 ? image.get(0, sy, sx) : 0;
                    assertEquals(expected, out.get(0, y, x));
                }
            }
            offsets.add(Arrays.toString(offset));
        }
        assertEquals(49, offsets.size(), "all (2p + 1)^2 places are drawn");
    }

    @Test
    void resizedCropRegionsStayInsideTheImageWithinTheScaleAndRatio() {
        RandomResizedCrop spec = Augmenter.withDefaults(RandomResizedCrop.newBuilder().setEnabled(true)
                .setMinScale(FloatValue.of(0.25f)).setMaxScale(FloatValue.of(0.5f)).build());
        Random random = new Random(9);
        for (int i = 0; i < 1000; i++) {
            Augmenter.Region r = Augmenter.resizedCropRegion(60, 80, spec, random);
            assertTrue(r.top() >= 0 && r.left() >= 0 && r.height() > 0 && r.width() > 0, r.toString());
            assertTrue(r.top() + r.height() <= 60 && r.left() + r.width() <= 80, r.toString());
            double share = (double) r.height() * r.width() / (60 * 80);
            // Width and height are rounded to whole pixels, so the area and ratio are within rounding of the draws.
            assertTrue(share > 0.22 && share < 0.54, r + " covers " + share);
            double ratio = (double) r.width() / r.height();
            assertTrue(ratio > 0.7 && ratio < 1.42, r + " has ratio " + ratio);
        }
    }

    @Test
    void whenNoDrawFitsTheCentralRegionClampedToTheRatioIsTaken() {
        // A 10 x 100 strip, square regions of at least half its area: none fits in 10 rows.
        RandomResizedCrop square = Augmenter.withDefaults(RandomResizedCrop.newBuilder().setEnabled(true)
                .setMinScale(FloatValue.of(0.5f)).setMinRatio(FloatValue.of(1f)).setMaxRatio(FloatValue.of(1f)).build());
        assertEquals(new Augmenter.Region(0, 45, 10, 10), Augmenter.resizedCropRegion(10, 100, square, new Random(1)));
    }

    @Test
    void aResizedCropIsMarkedSoEachModelResizesTheRegionStraight() {
        Augmenter crop = Augmenter.of(Augmentation.newBuilder()
                .setRandomResizedCrop(RandomResizedCrop.newBuilder().setEnabled(true)).build());
        AugmentedImage out = crop.apply(rgb(40, 40, 2), new Random(3));
        assertTrue(out.cropped());
        assertTrue(out.pixels().height() <= 40 && out.pixels().width() <= 40);
    }

    @Test
    void theSameRandomSeedGivesTheSameViewAndAnotherSeedAnother() {
        Augmenter all = Augmenter.of(Augmentation.newBuilder().setRandomCropPadding(4).setHorizontalFlip(true)
                .setRandomResizedCrop(RandomResizedCrop.newBuilder().setEnabled(true)).build());
        Pixels image = rgb(32, 32, 4);
        Pixels first = all.apply(image, new Random(42)).pixels();
        assertArrayEquals(first.values(), all.apply(image, new Random(42)).pixels().values());
        assertNotEquals(Arrays.toString(first.values()), Arrays.toString(all.apply(image, new Random(43)).pixels().values()));
        assertTrue(all.active());
        assertFalse(Augmenter.of(Augmentation.getDefaultInstance()).active());
        assertEquals("random resized crop (scale 0.08-1.0, ratio 0.75-1.33), random crop with padding 4, horizontal flip",
                all.describe());
    }
}
