package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrainingSplitTest {

    private static final ImageSet IMAGES = distinct(1000);

    @Test
    void theSameSeedGivesTheSameSplit() {
        TrainingSplit first = TrainingSplit.of(IMAGES, 0, 0.2f, 0.5f, 42);
        TrainingSplit again = TrainingSplit.of(IMAGES, 0, 0.2f, 0.5f, 42);

        assertArrayEquals(first.train().pixels(), again.train().pixels());
        assertArrayEquals(first.train().labels(), again.train().labels());
        assertArrayEquals(first.validation().pixels(), again.validation().pixels());
    }

    @Test
    void anotherSeedGivesAnotherSplit() {
        TrainingSplit first = TrainingSplit.of(IMAGES, 0, 0.2f, 0.5f, 42);
        TrainingSplit other = TrainingSplit.of(IMAGES, 0, 0.2f, 0.5f, 43);

        assertFalse(Arrays.equals(first.validation().pixels(), other.validation().pixels()));
        assertFalse(Arrays.equals(first.train().labels(), other.train().labels()));
    }

    @Test
    void respectsTheLimitAndTheFractions() {
        TrainingSplit split = TrainingSplit.of(IMAGES, 400, 0.25f, 0.1f, 7);

        assertEquals(100, split.validation().count());
        assertEquals(300, split.train().count());
        assertEquals(30, split.labelledCount());
        assertEquals(30, Arrays.stream(split.train().labels()).filter(label -> label >= 0).count());
        assertEquals(270, Arrays.stream(split.train().labels()).filter(label -> label == -1).count());
        // Each of the first 400 images lands in exactly one part; a kept label is the image's own.
        Set<Integer> seen = new HashSet<>();
        for (ImageSet part : new ImageSet[] {split.train(), split.validation()}) {
            for (int i = 0; i < part.count(); i++) {
                int id = id(part, i);
                assertTrue(id < 400 && seen.add(id), "image " + id);
                if (part.labels()[i] >= 0) {
                    assertEquals(id % 10, part.labels()[i]);
                }
            }
        }
        assertEquals(400, seen.size());
    }

    @Test
    void allowsNoValidationAndKeepsEveryLabelByDefault() {
        TrainingSplit split = TrainingSplit.of(IMAGES, 0, 0f, 1f, 1);

        assertEquals(0, split.validation().count());
        assertEquals(1000, split.train().count());
        assertEquals(1000, split.labelledCount());
    }

    @Test
    void rejectsFractionsOutOfRange() {
        assertInvalid("validation fraction must be in [0, 1), got 1.0", 1f, 1f);
        assertInvalid("validation fraction must be in [0, 1), got -0.1", -0.1f, 1f);
        assertInvalid("labelled fraction must be in (0, 1], got 0.0", 0.1f, 0f);
        assertInvalid("labelled fraction must be in (0, 1], got NaN", 0.1f, Float.NaN);
        assertInvalid("train limit must be >= 0 (0 = all images), got -5",
                () -> TrainingSplit.of(IMAGES, -5, 0.1f, 1f, 1));
        assertInvalid("no training images left: 1 images with validation fraction 0.9",
                () -> TrainingSplit.of(IMAGES, 1, 0.9f, 1f, 1));
    }

    private static void assertInvalid(String message, float validationFraction, float labelledFraction) {
        assertInvalid(message, () -> TrainingSplit.of(IMAGES, 0, validationFraction, labelledFraction, 1));
    }

    private static void assertInvalid(String message, Runnable action) {
        DistilleryException e = assertThrows(DistilleryException.class, action::run);
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals(message, e.getMessage());
    }

    /** Images of 1 x 1 x 2 pixels that spell out their index in two bytes; labels are the index mod 10. */
    private static ImageSet distinct(int count) {
        byte[] pixels = new byte[count * 2];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            pixels[2 * i] = (byte) (i >> 8);
            pixels[2 * i + 1] = (byte) i;
            labels[i] = i % 10;
        }
        return new ImageSet(count, 1, 1, 2, pixels, labels);
    }

    private static int id(ImageSet images, int i) {
        return (images.pixels()[2 * i] & 0xff) << 8 | (images.pixels()[2 * i + 1] & 0xff);
    }

    @Test
    void thePlanSplitsAnySourceAsItSplitsImagesInMemory() {
        TrainingSplit inMemory = TrainingSplit.of(IMAGES, 300, 0.2f, 0.5f, 9);
        TrainingSplit.Plan plan = TrainingSplit.Plan.of(IMAGES.count(), 300, 0.2f, 0.5f, 9);
        // The same images behind a source that is not an ImageSet, as an image folder's listing is not.
        ImageSource listing = new ImageSource() {
            public int count() { return IMAGES.count(); }
            public int label(int index) { return IMAGES.label(index); }
            public Pixels image(int index) { return IMAGES.image(index); }
            public ImageShape shape() { return IMAGES.shape(); }
            public boolean inMemory() { return false; }
        };

        assertEquals(inMemory.labelledCount(), plan.labelledCount());
        for (ImageSource[] pair : new ImageSource[][] {
                {inMemory.train(), plan.train(listing)}, {inMemory.validation(), plan.validation(listing)}}) {
            assertEquals(pair[0].count(), pair[1].count());
            for (int i = 0; i < pair[0].count(); i++) {
                assertEquals(pair[0].label(i), pair[1].label(i));
                assertArrayEquals(pair[0].image(i).values(), pair[1].image(i).values());
            }
        }
    }
}
