package dev.distillery.distill;

import dev.distillery.data.Permutations;
import java.util.Random;

/**
 * An epoch's random draws depend on the run's seed and the epoch number alone (and, for an image's
 * augmentation, its position in the training images), never on what ran before: a run resumed at epoch
 * {@code e} sees exactly the batches an uninterrupted run would have seen.
 */
final class Epochs {

    private Epochs() {}

    /** The order in which epoch {@code epoch} (1-based) visits {@code count} training images. */
    static int[] order(int count, long seed, int epoch) {
        return Permutations.random(count, new Random(seed * 1_000_003L + epoch));
    }

    /** The random source of training image {@code index}'s augmentation in epoch {@code epoch}. */
    static Random imageRandom(long seed, int epoch, int index) {
        return new Random(mix(mix(mix(seed) + epoch) + index));
    }

    /** SplitMix64's finaliser: nearby inputs give unrelated seeds. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
