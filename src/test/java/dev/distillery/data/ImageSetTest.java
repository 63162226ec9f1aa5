package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ImageSetTest {

    /** Three images of 1 x 1 x 2. */
    private static final ImageSet IMAGES =
            new ImageSet(3, 1, 1, 2, new byte[] {0, 1, 10, 11, 20, 21}, new int[] {5, 6, 7});

    @Test
    void selectsImagesInTheGivenOrder() {
        ImageSet selected = IMAGES.select(new int[] {2, 0, 2});

        assertEquals(3, selected.count());
        assertArrayEquals(new byte[] {20, 21, 0, 1, 20, 21}, selected.pixels());
        assertArrayEquals(new int[] {7, 5, 7}, selected.labels());
    }

    @Test
    void keepsTheFirstImages() {
        assertArrayEquals(new byte[] {0, 1, 10, 11}, IMAGES.first(2).pixels());
        assertArrayEquals(new int[] {5, 6}, IMAGES.first(2).labels());
        assertEquals(3, IMAGES.first(10).count());
    }

    @Test
    void rejectsArraysOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new ImageSet(2, 1, 1, 2, new byte[3], new int[2]));
        assertThrows(IllegalArgumentException.class, () -> new ImageSet(2, 1, 1, 2, new byte[4], new int[1]));
    }
}
