package dev.distillery.distill;

/** Hears about every finished epoch, on the training thread. */
@FunctionalInterface
public interface EpochListener {

    void onEpoch(EpochStats stats);
}
