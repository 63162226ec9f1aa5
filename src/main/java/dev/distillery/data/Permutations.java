package dev.distillery.data;

import java.util.Random;

/** Seeded shuffles, so that a run repeats exactly for the same seed. */
public final class Permutations {

    private Permutations() {}

    /** A uniformly random permutation of {@code 0 .. n-1} (Fisher-Yates), drawn from {@code random}. */
    public static int[] random(int n, Random random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }
}
